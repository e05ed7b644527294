#!/usr/bin/env python3
"""An audit log shaped like a busy server's, in auditd 3's ENRICHED format, for the benchmarks.

usage: audit_log.py MEGABYTES OUT [FIRST_SERIAL [START_TIME]]

Mostly exec events (SYSCALL, EXECVE, CWD, two PATHs, PROCTITLE), file writes, and user-space
records mixed in: sudo (USER_ACCT, USER_CMD, CRED_REFR, USER_START, USER_END, CRED_DISP),
logins (USER_AUTH, USER_ACCT, CRED_ACQ, USER_LOGIN, USER_START) and failed logins. Serials
count up from FIRST_SERIAL (default 1), 3 ms apart from START_TIME (default: so that the log
ends a minute ago). Prints the number of events written.
"""
import random
import sys
import time

GS = "\x1d"
USERS = [("alice", 1000), ("bob", 1001), ("carol", 1002), ("dave", 1003), ("root", 0)]
PROGRAMS = ["ls", "cat", "grep", "ps", "systemctl", "journalctl", "python3", "curl", "tar", "rsync"]
ROOT_ENRICH = 'UID="root" GID="root" EUID="root" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"'


def hexs(s):
    return s.encode().hex().upper()


def events(rng, first_serial, start_ms):
    serial = first_serial
    t = start_ms
    while True:
        stamp = "%d.%03d:%d" % (t // 1000, t % 1000, serial)
        user, uid = rng.choice(USERS)
        pid = rng.randrange(1000, 4000000)
        r = rng.random()
        if r < 0.85:
            prog = rng.choice(PROGRAMS)
            arg = "/srv/data/%d" % rng.randrange(100000)
            yield (
                f"type=SYSCALL msg=audit({stamp}): arch=c000003e syscall=59 success=yes exit=0 a0=55d0c1a0 a1=55d0c1b0 a2=55d0c1c0 a3=0 items=2 ppid={pid - 1} pid={pid} auid={uid} uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=7 comm=\"{prog}\" exe=\"/usr/bin/{prog}\" subj=unconfined key=\"exec\"{GS}ARCH=x86_64 SYSCALL=execve AUID=\"{user}\" {ROOT_ENRICH}\n"
                f"type=EXECVE msg=audit({stamp}): argc=3 a0=\"{prog}\" a1=\"-v\" a2=\"{arg}\"\n"
                f"type=CWD msg=audit({stamp}): cwd=\"/root\"\n"
                f"type=PATH msg=audit({stamp}): item=0 name=\"/usr/bin/{prog}\" inode=247295 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0{GS}OUID=\"root\" OGID=\"root\"\n"
                f"type=PATH msg=audit({stamp}): item=1 name=\"/lib64/ld-linux-x86-64.so.2\" inode=325843 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0{GS}OUID=\"root\" OGID=\"root\"\n"
                f"type=PROCTITLE msg=audit({stamp}): proctitle={hexs(prog + chr(0) + '-v' + chr(0) + arg)}\n"
            )
        elif r < 0.95:
            name = "/etc/app/conf.%d" % rng.randrange(1000)
            yield (
                f"type=SYSCALL msg=audit({stamp}): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd1000 a2=241 a3=1b6 items=2 ppid={pid - 1} pid={pid} auid={uid} uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=7 comm=\"vi\" exe=\"/usr/bin/vim.basic\" subj=unconfined key=\"opskit-identity\"{GS}ARCH=x86_64 SYSCALL=openat AUID=\"{user}\" {ROOT_ENRICH}\n"
                f"type=CWD msg=audit({stamp}): cwd=\"/etc/app\"\n"
                f"type=PATH msg=audit({stamp}): item=0 name=\"/etc/app/\" inode=19 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0{GS}OUID=\"root\" OGID=\"root\"\n"
                f"type=PATH msg=audit({stamp}): item=1 name=\"{name}\" inode=1196172 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0{GS}OUID=\"root\" OGID=\"root\"\n"
                f"type=PROCTITLE msg=audit({stamp}): proctitle={hexs('vi' + chr(0) + name)}\n"
            )
        elif r < 0.98:
            # sudo: six user-space records, six events.
            cmd = hexs("systemctl restart app%d" % rng.randrange(10))
            lines = []
            for rtype, extra in (
                ("USER_ACCT", f'op=PAM:accounting grantors=pam_permit acct="{user}"'),
                ("USER_CMD", f'cwd="/home/{user}" cmd={cmd}'),
                ("CRED_REFR", 'op=PAM:setcred grantors=pam_permit acct="root"'),
                ("USER_START", 'op=PAM:session_open grantors=pam_limits,pam_unix acct="root"'),
                ("USER_END", 'op=PAM:session_close grantors=pam_limits,pam_unix acct="root"'),
                ("CRED_DISP", 'op=PAM:setcred grantors=pam_permit acct="root"'),
            ):
                s = "%d.%03d:%d" % (t // 1000, t % 1000, serial)
                lines.append(
                    f"type={rtype} msg=audit({s}): pid={pid} uid=0 auid={uid} ses=7 subj=unconfined msg='{extra} exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success'{GS}UID=\"root\" AUID=\"{user}\"\n"
                )
                serial += 1
                t += 1
            serial -= 1
            yield "".join(lines)
        elif r < 0.99:
            addr = "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
            lines = []
            for rtype, extra in (
                ("USER_AUTH", f'op=PAM:authentication grantors=pam_unix acct="{user}"'),
                ("USER_ACCT", f'op=PAM:accounting grantors=pam_unix acct="{user}"'),
                ("CRED_ACQ", f'op=PAM:setcred grantors=pam_unix acct="{user}"'),
                ("USER_LOGIN", f"op=login id={uid}"),
                ("USER_START", f'op=PAM:session_open grantors=pam_unix acct="{user}"'),
            ):
                s = "%d.%03d:%d" % (t // 1000, t % 1000, serial)
                lines.append(
                    f"type={rtype} msg=audit({s}): pid={pid} uid=0 auid={uid} ses=9 subj=unconfined msg='{extra} exe=\"/usr/sbin/sshd\" hostname={addr} addr={addr} terminal=ssh res=success'{GS}UID=\"root\" AUID=\"{user}\"\n"
                )
                serial += 1
                t += 1
            serial -= 1
            yield "".join(lines)
        else:
            addr = "198.51.100.%d" % rng.randrange(1, 255)
            s2 = "%d.%03d:%d" % (t // 1000, t % 1000, serial + 1)
            yield (
                f"type=USER_AUTH msg=audit({stamp}): pid={pid} uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=PAM:authentication grantors=? acct=\"root\" exe=\"/usr/sbin/sshd\" hostname={addr} addr={addr} terminal=ssh res=failed'{GS}UID=\"root\" AUID=\"unset\"\n"
                f"type=USER_LOGIN msg=audit({s2}): pid={pid} uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr={addr} terminal=ssh res=failed'{GS}UID=\"root\" AUID=\"unset\"\n"
            )
            serial += 1
        serial += 1
        t += 3


def main():
    megabytes = float(sys.argv[1])
    out = sys.argv[2]
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    target = int(megabytes * 1024 * 1024)
    # About 1.4 KB an event: start far enough back that the log ends before now.
    default_start = int(time.time() * 1000) - 60_000 - (target // 1400) * 3 * 2
    start = int(sys.argv[4]) if len(sys.argv) > 4 else default_start
    rng = random.Random(first)
    written = 0
    count = 0
    chunk = []
    chunk_size = 0
    with open(out, "a", encoding="utf-8") as f:
        for text in events(rng, first, start):
            chunk.append(text)
            chunk_size += len(text)
            count += text.count("\n") if not text.startswith("type=SYSCALL") else 1
            if chunk_size >= 1 << 20:
                f.write("".join(chunk))
                written += chunk_size
                chunk, chunk_size = [], 0
                if written >= target:
                    break
        if chunk:
            f.write("".join(chunk))
    print(count)


main()
