#!/usr/bin/env bash
# Exit 0 when this machine has what ../shared/asterisk/build.sh needs (its README's Debian
# packages) and the SIP user agents of the lab; else say what is missing and exit 1.
missing=()
for tool in gcc make pkg-config bzip2 sipp; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
for lib in libedit jansson libxml-2.0 libxslt uuid sqlite3 openssl; do
    pkg-config --exists "$lib" 2>/dev/null || missing+=("$lib")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]}" >&2
    exit 1
fi
