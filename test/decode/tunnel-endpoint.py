#!/usr/bin/env python3
"""Userspace tunnel endpoint for the live tunnel tests (stdlib only).

Why this exists: the kernels our tests run on (CI containers, this dev box)
often lack the geneve/ipip modules, so `ip link add ... type geneve|ipip`
fails with "Unknown device type" and cannot be loaded without modprobe. The
decoder only ever sees bytes on the underlay, so an endpoint that puts the
same bytes there as a kernel tunnel does is an equally good source of live
captures. This script owns a TUN (inner IP) or TAP (inner Ethernet) device,
and for every inner packet the kernel routes into that device writes it to
the underlay encapsulated; what arrives from the underlay is decapsulated
back into the device. The kernel builds the outer IPv4 (and UDP) headers.

  geneve  RFC 8926 section 3.4: UDP to port 6081 carrying an 8-byte header
          (Ver=0, Opt Len=0, O=0, C=0, Protocol Type, VNI, Reserved) and no
          options. Protocol Type is the inner packet's EtherType: 0x0800 or
          0x86DD from the IP version nibble on a TUN, 0x6558 (Transparent
          Ethernet Bridging, a whole Ethernet frame) on a TAP.
  ipip    RFC 2003 section 3: the inner IPv4 datagram directly after an
          outer IPv4 header with Protocol 4. Sent on a raw socket of
          protocol 4 so the kernel writes the outer header; that raw socket
          also receives every protocol-4 datagram addressed to this host
          (and stops the kernel answering them with ICMP protocol-unreachable).

Usage: tunnel-endpoint.py --kind geneve|ipip --dev NAME [--tap]
                          --local A.B.C.D --remote A.B.C.D [--vni N] [--lifetime S]
Prints "ready NAME" once the device exists; the caller then gives it its
address and brings it up. Exits on SIGTERM/SIGINT or after --lifetime
seconds (so a crashed test never leaves it running); the device vanishes
with the process (it is not persistent).
"""
import argparse
import fcntl
import os
import select
import signal
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000  # no 4-byte packet-information prefix: reads/writes are bare packets

GENEVE_PORT = 6081
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
ETH_P_TEB = 0x6558
IPPROTO_IPIP = 4


def open_tun(name, tap):
    fd = os.open('/dev/net/tun', os.O_RDWR)
    flags = (IFF_TAP if tap else IFF_TUN) | IFF_NO_PI
    # struct ifreq: char ifr_name[16]; short ifr_flags; (padding to 40 bytes)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH22x', name.encode(), flags))
    return fd


def geneve_header(proto, vni):
    # Byte 0: Ver(2 bits)=0, Opt Len(6 bits)=0. Byte 1: O=0, C=0, Rsvd=0.
    # Bytes 2-3: Protocol Type. Bytes 4-6: VNI. Byte 7: Reserved.
    return struct.pack('!BBHI', 0, 0, proto, (vni & 0xFFFFFF) << 8)


def send(sock, data, dst):
    try:
        sock.sendto(data, dst)
    except OSError:
        pass  # underlay unreachable or full: dropped, as a kernel tunnel would


def deliver(dev, data):
    try:
        os.write(dev, data)
    except OSError:
        pass  # EIO while the device is still down: dropped, as a kernel tunnel would


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--kind', choices=('geneve', 'ipip'), required=True)
    ap.add_argument('--dev', required=True)
    ap.add_argument('--tap', action='store_true')
    ap.add_argument('--local', required=True)
    ap.add_argument('--remote', required=True)
    ap.add_argument('--vni', type=int, default=7)
    ap.add_argument('--lifetime', type=float, default=60.0)
    a = ap.parse_args()
    if a.kind == 'ipip' and a.tap:
        sys.exit('ipip carries IP, not Ethernet: no --tap')

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    dev = open_tun(a.dev, a.tap)
    if a.kind == 'geneve':
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((a.local, GENEVE_PORT))
        dst = (a.remote, GENEVE_PORT)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_IPIP)
        sock.bind((a.local, 0))  # fixes the outer source address
        dst = (a.remote, 0)
    print('ready', a.dev, flush=True)

    deadline = time.monotonic() + a.lifetime
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        r, _, _ = select.select([dev, sock], [], [], left)
        if dev in r:
            inner = os.read(dev, 65535)
            if not inner:
                continue
            if a.kind == 'ipip':
                if inner[0] >> 4 == 4:  # IPv6 would be protocol 41, not ours
                    send(sock, inner, dst)
                continue
            if a.tap:
                proto = ETH_P_TEB
            elif inner[0] >> 4 == 4:
                proto = ETH_P_IP
            elif inner[0] >> 4 == 6:
                proto = ETH_P_IPV6
            else:
                continue
            send(sock, geneve_header(proto, a.vni) + inner, dst)
        if sock in r:
            data, peer = sock.recvfrom(65535)
            if peer[0] != a.remote:
                continue
            if a.kind == 'ipip':
                # A raw socket hands over the whole datagram, outer header included.
                hl = (data[0] & 0x0F) * 4
                if len(data) > hl:
                    deliver(dev, data[hl:])
                continue
            if len(data) < 8 or data[0] >> 6 != 0:
                continue
            hl = 8 + (data[0] & 0x3F) * 4
            proto, vni = struct.unpack('!H I', data[2:8])
            if vni >> 8 != a.vni or len(data) <= hl:
                continue
            if (proto == ETH_P_TEB) == a.tap:
                deliver(dev, data[hl:])


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
