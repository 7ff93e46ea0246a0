#!/usr/bin/env python3
"""Generate fr-holidays-1990-2100.csv from the independent PyPI `holidays` package.

Run: pip install holidays && python3 gen_fr_holidays.py > fr-holidays-1990-2100.csv
Columns: date (ISO), region (national | alsace-moselle), name (as the package names it).
`alsace-moselle` rows are the extra holidays of subdivision 57 (Moselle), which the
package gives for the three departements of Alsace-Moselle.
The package version used is written in the first comment line, so a later
regeneration shows up in review.
"""
import holidays

print(f"# source: PyPI holidays {holidays.__version__}, France and France subdiv 57, 1990-2100")
print("date,region,name")
for year in range(1990, 2101):
    national = holidays.France(years=year)
    alsace = holidays.France(years=year, subdiv="57")
    for d in sorted(national):
        print(f"{d.isoformat()},national,{national[d]}")
    for d in sorted(set(alsace) - set(national)):
        print(f"{d.isoformat()},alsace-moselle,{alsace[d]}")
