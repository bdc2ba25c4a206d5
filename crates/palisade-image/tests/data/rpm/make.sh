#!/usr/bin/env bash
# Regenerates the rpmdb fixtures of this directory: three tiny packages built with rpmbuild from
# the specs below, registered with `rpm -i --justdb` into an SQLite rpmdb (Debian's rpm 4.18
# default backend), then copied into the two older formats:
#   - Packages (Berkeley DB hash): written by db5.3_load from the SQLite blobs, keyed like rpm's
#     bdb backend (native-endian u32 header number; key 0 holds the next-instance counter).
#     Page size 512 so header blobs go to overflow pages, as real rpmdbs' several-KB headers do.
#   - Packages.db (NDB, SUSE): written by the Python below following rpm's lib/backend/ndb/rpmpkg.c
#     layout (Debian's rpm is built without ndb, so it cannot write one itself).
# expected.txt is `rpm -qa` over the SQLite db: the truth the tests compare against.
# Needs: apt-get install rpm db5.3-util python3.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/SPECS" "$work/db"
cat > "$work/SPECS/palisade-demo.spec" <<'SPEC'
Name: palisade-demo
Version: 1.2.3
Release: 4.el9
Epoch: 2
Summary: Palisade fixture package with an epoch
License: MIT AND Apache-2.0
BuildArch: x86_64
%description
Fixture.
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/lib/python3.9/site-packages/demo-1.0.dist-info
echo '#!/bin/sh' > %{buildroot}/usr/bin/palisade-demo
printf 'Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n' > %{buildroot}/usr/lib/python3.9/site-packages/demo-1.0.dist-info/METADATA
%files
/usr/bin/palisade-demo
/usr/lib/python3.9/site-packages/demo-1.0.dist-info/METADATA
SPEC
cat > "$work/SPECS/palisade-data.spec" <<'SPEC'
Name: palisade-data
Version: 0.9
Release: 1
Summary: Palisade fixture noarch package
License: GPL-2.0-or-later
BuildArch: noarch
%description
Fixture.
%install
mkdir -p %{buildroot}/usr/share/palisade
echo data > %{buildroot}/usr/share/palisade/data.txt
%files
/usr/share/palisade/data.txt
SPEC
cat > "$work/SPECS/openssl-libs.spec" <<'SPEC'
Name: openssl-libs
Version: 3.0.7
Release: 27.el9
Epoch: 1
Summary: Palisade fixture named like a real library
License: ASL 2.0
BuildArch: x86_64
%description
Fixture.
%install
mkdir -p %{buildroot}/usr/lib64
echo lib > %{buildroot}/usr/lib64/libssl.so.3
%files
/usr/lib64/libssl.so.3
SPEC

for spec in "$work"/SPECS/*.spec; do
    rpmbuild --quiet --define "_topdir $work" -bb "$spec" >/dev/null
done
rpm --initdb --dbpath "$work/db" --define '_db_backend sqlite'
rpm -i --justdb --nodeps --noscripts --ignorearch --ignoreos --dbpath "$work/db" \
    --define '_db_backend sqlite' "$work"/RPMS/*/*.rpm 2>/dev/null
# Compact so the fixture carries no free pages or WAL.
sqlite3 "$work/db/rpmdb.sqlite" 'PRAGMA journal_mode=DELETE; PRAGMA page_size=512; VACUUM;' >/dev/null
cp "$work/db/rpmdb.sqlite" "$here/rpmdb.sqlite"
rpm -qa --dbpath "$work/db" --define '_db_backend sqlite' \
    --qf '%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH}\n' | sort > "$here/expected.txt"

python3 - "$work/db/rpmdb.sqlite" "$here" "$work" <<'PY'
import sqlite3, struct, sys, zlib, subprocess
db, out, work = sys.argv[1:4]
rows = sqlite3.connect(db).execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()

# Berkeley DB hash through db_load's bytevalue dump format.
dump = ["VERSION=3", "format=bytevalue", "type=hash", "db_pagesize=512", "HEADER=END"]
dump += [" " + struct.pack("<I", 0).hex(), " " + struct.pack("<I", len(rows) + 1).hex()]
for hnum, blob in rows:
    dump += [" " + struct.pack("<I", hnum).hex(), " " + bytes(blob).hex()]
dump.append("DATA=END")
open(f"{work}/dump.txt", "w").write("\n".join(dump) + "\n")
subprocess.run(["db5.3_load", "-f", f"{work}/dump.txt", f"{out}/Packages"], check=True)

# NDB: 32-byte header and slot entries in 4 KiB slot pages, then 16-byte-aligned blobs.
BLK = 16
slot_pages = 1
blobs = bytearray()
slots = []
offset_blocks = slot_pages * 4096 // BLK
for hnum, blob in rows:
    blob = bytes(blob)
    ck = zlib.adler32(blob)
    rec = struct.pack("<4I", 0x53626C42, hnum, ck, len(blob)) + blob
    rec += struct.pack("<3I", ck, len(blob), 0x45626C42)
    rec += b"\0" * (-len(rec) % BLK)
    slots.append(struct.pack("<4I", 0x746F6C53, hnum, offset_blocks, len(rec) // BLK))
    offset_blocks += len(rec) // BLK
    blobs += rec
header = struct.pack("<4I", 0x506D7052, 0, 1, slot_pages) + b"\0" * 16
free = struct.pack("<4I", 0x746F6C53, 0, 0, 0)
slot_area = b"".join(slots)
slot_area += free * ((4096 - 32 - len(slot_area)) // 16)
open(f"{out}/Packages.db", "wb").write(header + slot_area + bytes(blobs))
PY
