"""Prints a schemathesis report's failures one line each: operation, check, status, problem."""

import re
import sys

text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
sections = re.split(r"\n_{5,} (.+?) _{5,}\n", text)
for operation, body in zip(sections[1::2], sections[2::2]):
    for case in re.split(r"\n\d+\. Test Case ID: ", body):
        checks = re.findall(r"^- (.+)$", case, re.M)
        status = re.search(r"^\[(\d+)\] ", case, re.M)
        answer = re.search(r"^\s+`(.*)`$", case, re.M)
        request = re.search(r"^\s+(curl .*)$", case, re.M)
        if not checks:
            continue
        print(f"{operation}: {'; '.join(checks)} -> {status.group(1) if status else '?'}")
        if answer:
            print(f"    {answer.group(1)[:300]}")
        if request:
            print(f"    {request.group(1)[:300]}")
if "Runtime Error" in text:
    print("schemathesis itself failed (Runtime Error): see the whole report")
