#!/usr/bin/env python3
"""A deliberately broken SNMP v2c agent, for the crawler's bad-input tests. No real device can
be made to misbehave on demand, so this one speaks real SNMP through pysnmp's protocol API (the
library snmpsim is built on) and breaks the rules by community:

  loop     every GETNEXT/GETBULK answer is the same two varbinds, the second OID smaller than
           the first: an agent whose walk never ends.
  garbage  answers every request with bytes that are not SNMP at all.
  anything else: no answer (an agent that hangs).

Usage: misbehaving_snmp_agent.py PORT   (binds 127.0.0.1:PORT; prints "ready" when bound)
"""
import os
import socket
import sys

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
while True:
    data, peer = sock.recvfrom(65535)
    try:
        msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
    except Exception:
        continue
    community = str(v2c.apiMessage.get_community(msg))
    if community == "garbage":
        sock.sendto(os.urandom(64) + b"\x30\x82\xff\xff", peer)
        continue
    if community != "loop":
        continue
    response = v2c.apiMessage.get_response(msg)
    pdu = v2c.apiMessage.get_pdu(response)
    v2c.apiPDU.set_varbinds(pdu, [
        ((1, 3, 6, 1, 2, 1, 1, 5, 0), v2c.OctetString(b"looping")),
        ((1, 3, 6, 1, 2, 1, 1, 3, 0), v2c.TimeTicks(1)),
    ])
    sock.sendto(encoder.encode(response), peer)
