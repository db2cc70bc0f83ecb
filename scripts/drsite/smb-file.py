#!/usr/bin/python3
"""The counter's side of the share, through SMB only (python3-samba), as a broker's counter
program writes to a Windows share: never into the server's directory behind Samba's back (a
guest holding the file open would not see such a change; docs/drsite.md).

  smb-file.py get REMOTE            file contents to stdout
  smb-file.py put REMOTE            stdin becomes the whole file (created or replaced)
  smb-file.py pwrite REMOTE         stdin is JSON [{"offset": N, "hex": "..."}]: each chunk written
                                    in place at its offset, in order, through one open handle
  smb-file.py exists REMOTE         exit 0 when the file exists, 1 when not
  smb-file.py unlink REMOTE
  smb-file.py mtime REMOTE          its modification time (seconds since the epoch), from the server
  smb-file.py ls DIR                one name per line ("" is the share's top)

Server, share and login from the environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASSWORD
(the password never on a command line), SMB_CONF (a client smb.conf).
"""
import json
import os
import sys

from samba import NTSTATUSError, credentials
from samba.samba3 import libsmb_samba_internal as libsmb
from samba.samba3 import param as s3param

FILE_OPEN = 1
# FILE_GENERIC_READ | FILE_GENERIC_WRITE
READ_WRITE = 0x00120089 | 0x00120116
SHARE_ALL = 0x7
# FILE_GENERIC_READ
READ = 0x00120089


def connect():
    lp = s3param.get_context()
    lp.load(os.environ["SMB_CONF"])
    creds = credentials.Credentials()
    creds.guess(lp)
    creds.set_username(os.environ["SMB_USER"])
    creds.set_password(os.environ["SMB_PASSWORD"])
    return libsmb.Conn(os.environ["SMB_SERVER"], os.environ["SMB_SHARE"], lp, creds)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 64
    op, remote = sys.argv[1], sys.argv[2]
    conn = connect()
    if op == "get":
        # Not conn.loadfile: it opens with read sharing only, which the gateway's open handle
        # (read/write) refuses with a sharing violation. A counter reads with full sharing.
        directory, _, name = remote.rpartition("/")
        size = [e for e in conn.list(directory, mask=name) if e["name"] == name][0]["size"]
        fnum = conn.create(remote, DesiredAccess=READ, ShareAccess=SHARE_ALL, CreateDisposition=FILE_OPEN)
        try:
            data = bytearray()
            while len(data) < size:
                chunk = conn.read(fnum, len(data), min(65536, size - len(data)))
                if not chunk:
                    break
                data += chunk
        finally:
            conn.close(fnum)
        sys.stdout.buffer.write(bytes(data))
    elif op == "put":
        conn.savefile(remote, sys.stdin.buffer.read())
    elif op == "pwrite":
        chunks = json.load(sys.stdin)
        fnum = conn.create(remote, DesiredAccess=READ_WRITE, ShareAccess=SHARE_ALL, CreateDisposition=FILE_OPEN)
        try:
            for chunk in chunks:
                conn.write(fnum, buffer=bytes.fromhex(chunk["hex"]), offset=int(chunk["offset"]))
        finally:
            conn.close(fnum)
    elif op == "exists":
        try:
            conn.close(conn.create(remote, DesiredAccess=READ, ShareAccess=SHARE_ALL, CreateDisposition=FILE_OPEN))
        except NTSTATUSError:
            return 1
    elif op == "mtime":
        directory, _, name = remote.rpartition("/")
        entries = [e for e in conn.list(directory, mask=name) if e["name"] == name]
        if not entries:
            return 1
        sys.stdout.write("%s\n" % entries[0]["mtime"])
    elif op == "ls":
        for entry in conn.list(remote):
            sys.stdout.write(entry["name"] + "\n")
    elif op == "unlink":
        conn.unlink(remote)
    else:
        sys.stderr.write(__doc__)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main())
