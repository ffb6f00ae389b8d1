#!/usr/bin/python3
"""Small servers and clients of the Harrier lab (standard library only).

Each role stands in for a real component where Debian has no package that fits
in a namespace without a daemon manager: the shop's HTTP/JSON services, a
deliberately vulnerable legacy app, a cloud metadata service, a fake Kubernetes
API server, external web/TLS/upload servers, a Monero-style stratum pool and a
miner client speaking the same JSON-RPC as xmrig, and a BitTorrent tracker.
Everything binds only to the address it is given (a lab address).
"""
import argparse
import base64
import http.server
import json
import os
import random
import socket
import socketserver
import sqlite3
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import urllib.request


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        # HTTPServer.server_bind asks DNS for the bound address's name (getfqdn);
        # skip it: lab servers only ever use lab addresses and need no name.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def serve(handler, bind, port, tls=None):
    srv = Server((bind, port), handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


class Base(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'nginx/1.22.1'
    sys_version = ''

    def log_message(self, fmt, *args):
        sys.stderr.write('%s %s\n' % (self.address_string(), fmt % args))

    def reply(self, code, body, ctype='application/json', headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get('Content-Length') or 0)
        left, chunks = n, []
        while left > 0:
            c = self.rfile.read(min(left, 65536))
            if not c:
                break
            chunks.append(c)
            left -= len(c)
        return b''.join(chunks)

    def do_HEAD(self):
        self.do_GET()


def http_get(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except Exception as e:  # a failed backend is part of the story, not a crash
        return 0, str(e).encode()


# --- redis (RESP) and postgresql (frontend/backend protocol v3) minimal clients.
def redis_cmd(host, port, *args):
    with socket.create_connection((host, port), timeout=2) as s:
        msg = b'*%d\r\n' % len(args) + b''.join(b'$%d\r\n%s\r\n' % (len(a), a) for a in (x.encode() for x in args))
        s.sendall(msg)
        return s.recv(4096)


def pg_query(host, port, user, db, sql):
    """Trust authentication, one simple query; returns the DataRow count."""
    with socket.create_connection((host, port), timeout=2) as s:
        params = b'user\0' + user.encode() + b'\0database\0' + db.encode() + b'\0application_name\0cart\0\0'
        s.sendall(struct.pack('!II', 8 + len(params), 196608) + params)
        rows = 0
        def read_until_ready():
            nonlocal rows
            buf = b''
            while True:
                while len(buf) < 5:
                    c = s.recv(65536)
                    if not c:
                        raise OSError('postgres closed')
                    buf += c
                t, n = buf[0:1], struct.unpack('!I', buf[1:5])[0]
                while len(buf) < 1 + n:
                    c = s.recv(65536)
                    if not c:
                        raise OSError('postgres closed')
                    buf += c
                if t == b'E':
                    raise OSError('postgres error')
                if t == b'D':
                    rows += 1
                buf = buf[1 + n:]
                if t == b'Z':
                    return
        read_until_ready()
        q = sql.encode() + b'\0'
        s.sendall(b'Q' + struct.pack('!I', 4 + len(q)) + q)
        read_until_ready()
        s.sendall(b'X' + struct.pack('!I', 4))
        return rows


# --- roles -----------------------------------------------------------------
def role_frontend(a):
    class H(Base):
        def do_GET(self):
            if self.path == '/healthz':
                return self.reply(200, {'ok': True})
            # Authorisation sidecar on the pod's loopback (the loopback capture point).
            st, _ = http_get('http://127.0.0.1:9000/authz?path=' + urllib.parse.quote(self.path))
            code, body = http_get('http://cart.shop.svc.cluster.local/api/cart?user=%d' % random.randint(1, 50))
            page = '<html><body><h1>Lab shop</h1><p>cart: %s</p></body></html>' % body[:200].decode('utf-8', 'replace')
            self.reply(200 if code == 200 and st == 200 else 502, page, 'text/html')
    serve(H, a.bind, a.port)


def role_sidecar(a):
    class H(Base):
        def do_GET(self):
            self.reply(200, {'allow': True})
    serve(H, a.bind, a.port)


def role_cart(a):
    class H(Base):
        def do_GET(self):
            if self.path == '/healthz':
                return self.reply(200, {'ok': True})
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            user = q.get('user', ['0'])[0]
            try:
                hits = redis_cmd('redis.shop.svc.cluster.local', 6379, 'INCR', 'cart:%s' % user)
                rows = pg_query('postgres.shop.svc.cluster.local', 5432, 'shop', 'shop',
                                'SELECT id, name, price FROM items ORDER BY id LIMIT 5')
                self.reply(200, {'user': user, 'views': hits.strip().decode(), 'items': rows})
            except OSError as e:
                self.reply(503, {'error': str(e)})
    serve(H, a.bind, a.port)


def role_legacy(a):
    """Deliberately vulnerable: SQL injection in /search, basic auth on /admin,
    a fake CGI. It never touches real files: traversal attempts get a canned reply."""
    db = sqlite3.connect(':memory:', check_same_thread=False)
    db.executescript("""CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, email TEXT, password TEXT);
        INSERT INTO users(name,email,password) VALUES ('alice','alice@shop.lab.test','5f4dcc3b5aa765d61d8327deb882cf99'),
        ('bob','bob@shop.lab.test','e99a18c428cb38d5f260853678922e03'),('carol','carol@shop.lab.test','d8578edf8458ce06fbc5bb76a58c5ca4');""")
    lock = threading.Lock()
    password = a.secret or 'N0t-In-Any-List-%d' % random.randint(10**6, 10**7)

    class H(Base):
        server_version = 'Apache/2.4.41 (Ubuntu)'

        def do_GET(self):
            u = urllib.parse.urlparse(self.path)
            q = urllib.parse.parse_qs(u.query)
            if u.path == '/search':
                term = q.get('q', [''])[0]
                sql = "SELECT id, name, email FROM users WHERE name LIKE '%" + term + "%'"  # the bug
                try:
                    with lock:
                        rows = db.execute(sql).fetchall()
                    return self.reply(200, '<html><body><table>%s</table></body></html>' %
                                      ''.join('<tr><td>%s</td><td>%s</td><td>%s</td></tr>' % r for r in rows), 'text/html')
                except sqlite3.Error as e:
                    return self.reply(500, '<html><body>SQLite error: %s in query %s</body></html>' % (e, sql), 'text/html')
            if u.path.startswith('/admin'):
                want = 'Basic ' + base64.b64encode(('admin:' + password).encode()).decode()
                if self.headers.get('Authorization') != want:
                    return self.reply(401, 'Unauthorized', 'text/plain', {'WWW-Authenticate': 'Basic realm="legacy admin"'})
                return self.reply(200, 'welcome', 'text/plain')
            if u.path.startswith('/cgi-bin/'):
                return self.reply(200, 'Content-type: text/plain\n\nstatus ok\n', 'text/plain')
            if u.path == '/download':
                return self.reply(404, 'file not found', 'text/plain')
            return self.reply(200, '<html><body>legacy admin portal</body></html>', 'text/html')

        def do_POST(self):
            self.body()
            self.reply(200, '<html><body>ok</body></html>', 'text/html')
    serve(H, a.bind, a.port)


def role_metadata(a):
    creds = {'Code': 'Success', 'Type': 'AWS-HMAC', 'AccessKeyId': 'ASIALABLABLABLAB0000',
             'SecretAccessKey': 'lab/not/a/real/secret/key', 'Token': 'lab-session-token', 'Expiration': '2030-01-01T00:00:00Z'}
    paths = {
        '/latest/meta-data/': 'ami-id\nhostname\niam/\ninstance-id\nlocal-ipv4\n',
        '/latest/meta-data/instance-id': 'i-0lab0000000000001',
        '/latest/meta-data/iam/security-credentials/': 'lab-node-role',
        '/latest/meta-data/iam/security-credentials/lab-node-role': json.dumps(creds),
        '/latest/api/token': 'AQAEALabToken==',
        '/computeMetadata/v1/instance/service-accounts/default/token': json.dumps({'access_token': 'ya29.lab', 'expires_in': 3599}),
    }

    class H(Base):
        server_version = 'EC2ws'

        def do_GET(self):
            v = paths.get(self.path)
            self.reply(200 if v is not None else 404, v or 'Not Found', 'text/plain')

        def do_PUT(self):
            self.body()
            self.do_GET()
    serve(H, a.bind, a.port)


def role_kubeapi(a):
    class H(Base):
        server_version = ''

        def do_GET(self):
            auth = self.headers.get('Authorization', '')
            if not auth.startswith('Bearer '):
                return self.reply(401, {'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'reason': 'Unauthorized', 'code': 401})
            if '/secrets' in self.path:
                return self.reply(200, {'kind': 'SecretList', 'apiVersion': 'v1', 'items': [
                    {'metadata': {'name': 'db-credentials', 'namespace': 'shop'}, 'type': 'Opaque',
                     'data': {'password': base64.b64encode(b'lab-not-secret').decode()}}]})
            if self.path.startswith('/version'):
                return self.reply(200, {'major': '1', 'minor': '29', 'gitVersion': 'v1.29.4'})
            return self.reply(200, {'kind': 'APIResourceList', 'groupVersion': 'v1', 'resources': []})

        def do_POST(self):
            self.body()
            self.reply(201, {'kind': 'Status', 'status': 'Success'})
    serve(H, a.bind, a.port, (a.cert, a.key) if a.cert else None)


def role_web(a):
    """External web/API/upload server (www, payments, drop box): answers anything."""
    class H(Base):
        def do_GET(self):
            if self.path.startswith('/v1/'):
                return self.reply(200, {'id': 'ch_%d' % random.randint(1, 10**9), 'status': 'succeeded'})
            self.reply(200, '<html><body>%s</body></html>' % (a.name or 'lab site'), 'text/html')

        def do_POST(self):
            n = len(self.body())
            self.reply(200, {'received': n})

        def do_PUT(self):
            self.do_POST()
    serve(H, a.bind, a.port, (a.cert, a.key) if a.cert else None)


def role_exporter(a):
    class H(Base):
        def do_GET(self):
            self.reply(200, 'node_load1 0.%d\nnode_memory_MemAvailable_bytes 2.1e+09\n' % random.randint(0, 99), 'text/plain; version=0.0.4')
    serve(H, a.bind, a.port)


def role_stratum_pool(a):
    """Monero-style stratum pool: login -> job, submit -> OK, keepalived."""
    class H(socketserver.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                try:
                    req = json.loads(line)
                except ValueError:
                    return
                m, rid = req.get('method'), req.get('id')
                job = {'blob': os.urandom(38).hex() + '00000000' + os.urandom(34).hex(), 'job_id': str(random.randint(1, 10**9)),
                       'target': 'f3220000', 'algo': 'rx/0', 'height': 3100000 + random.randint(0, 1000),
                       'seed_hash': 'a' * 64}
                if m == 'login':
                    res = {'id': 'lab-worker-1', 'job': job, 'extensions': ['algo', 'nicehash', 'keepalive'], 'status': 'OK'}
                else:
                    res = {'status': 'OK'}
                self.wfile.write((json.dumps({'id': rid, 'jsonrpc': '2.0', 'error': None, 'result': res}) + '\n').encode())
                if m == 'submit' and random.random() < 0.5:
                    self.wfile.write((json.dumps({'jsonrpc': '2.0', 'method': 'job', 'params': job}) + '\n').encode())

    class S(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
    S((a.bind, a.port), H).serve_forever()


def role_miner(a):
    """Speaks xmrig's stratum JSON-RPC (login, submit, keepalived) for a bounded time."""
    end = time.time() + a.seconds
    s = socket.create_connection((a.host, a.port), timeout=5)
    f = s.makefile('rwb')
    def call(i, method, params):
        f.write((json.dumps({'id': i, 'jsonrpc': '2.0', 'method': method, 'params': params}) + '\n').encode())
        f.flush()
        return json.loads(f.readline())
    r = call(1, 'login', {'login': '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A',
                          'pass': 'x', 'agent': 'XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0', 'algo': ['rx/0', 'cn/r']})
    worker, i = r['result']['id'], 2
    job = r['result']['job']
    while time.time() < end:
        time.sleep(a.interval)
        call(i, 'submit', {'id': worker, 'job_id': job['job_id'], 'nonce': os.urandom(4).hex(), 'result': os.urandom(32).hex(), 'algo': 'rx/0'})
        i += 1
        if i % 4 == 0:
            call(i, 'keepalived', {'id': worker})
            i += 1
    s.close()


def role_tracker(a):
    """HTTP BitTorrent tracker (BEP 3/23): remembers peers per info_hash, compact replies."""
    peers = {}

    class H(Base):
        def do_GET(self):
            u = urllib.parse.urlparse(self.path)
            q = urllib.parse.parse_qs(u.query, encoding='latin-1')
            ih = q.get('info_hash', [''])[0]
            ip = self.client_address[0]
            port = int(q.get('port', ['0'])[0])
            peers.setdefault(ih, {})[(ip, port)] = time.time()
            compact = b''.join(socket.inet_aton(p[0]) + struct.pack('!H', p[1]) for p in peers[ih] if p != (ip, port))
            body = b'd8:intervali30e5:peers%d:%se' % (len(compact), compact)
            self.reply(200, body, 'text/plain')
    serve(H, a.bind, a.port)


def role_kubelet(a):
    """The kubelet's API (HTTPS :10250, and the legacy read-only HTTP :10255 without --cert):
    pod lists and a refusal for exec/run, shaped like the real answers."""
    class H(Base):
        server_version = ''

        def do_GET(self):
            if self.path.startswith('/pods') or self.path.startswith('/runningpods'):
                return self.reply(200, {'kind': 'PodList', 'apiVersion': 'v1', 'items': [
                    {'metadata': {'name': 'legacy-admin-84b6d7c9f-q2n7s', 'namespace': 'shop'}}]})
            if self.path.startswith('/healthz'):
                return self.reply(200, 'ok', 'text/plain')
            return self.reply(404, '404 page not found', 'text/plain')

        def do_POST(self):
            self.body()
            self.reply(403, 'Forbidden (user=system:anonymous, verb=create, resource=nodes, subresource=proxy)', 'text/plain')
    serve(H, a.bind, a.port, (a.cert, a.key) if a.cert else None)


def role_etcd(a):
    """etcd's v3 JSON gateway (HTTP :2379): version and key-range reads."""
    class H(Base):
        server_version = ''

        def do_GET(self):
            if self.path.startswith('/version'):
                return self.reply(200, {'etcdserver': '3.5.12', 'etcdcluster': '3.5.0'})
            return self.reply(404, '404 page not found', 'text/plain')

        def do_POST(self):
            self.body()
            if self.path.startswith('/v3/kv/range'):
                kv = {'key': base64.b64encode(b'/registry/secrets/shop/db-credentials').decode(),
                      'value': base64.b64encode(b'k8s\x00lab-not-secret').decode()}
                return self.reply(200, {'header': {'cluster_id': '1', 'revision': '42'}, 'kvs': [kv], 'count': '1'})
            self.reply(404, '404 page not found', 'text/plain')
    serve(H, a.bind, a.port)


def role_dockerd(a):
    """A Docker Engine API exposed on TCP :2375 without TLS (a classic misconfiguration)."""
    class H(Base):
        server_version = 'Docker/24.0.7 (linux)'

        def do_GET(self):
            if '/containers/json' in self.path:
                return self.reply(200, [{'Id': 'a1b2c3', 'Image': 'nginx:1.25', 'State': 'running'}])
            if self.path.endswith('/version') or self.path == '/version':
                return self.reply(200, {'Version': '24.0.7', 'ApiVersion': '1.43'})
            return self.reply(404, {'message': 'page not found'})

        def do_POST(self):
            self.body()
            if '/containers/create' in self.path:
                return self.reply(201, {'Id': 'd4e5f6', 'Warnings': []})
            self.reply(204, '')
    serve(H, a.bind, a.port)


ROLES = {'frontend': role_frontend, 'sidecar': role_sidecar, 'cart': role_cart, 'legacy': role_legacy,
         'metadata': role_metadata, 'kubeapi': role_kubeapi, 'web': role_web, 'exporter': role_exporter,
         'pool': role_stratum_pool, 'miner': role_miner, 'tracker': role_tracker,
         'kubelet': role_kubelet, 'etcd': role_etcd, 'dockerd': role_dockerd}

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('role', choices=sorted(ROLES))
    p.add_argument('--bind', default='127.0.0.1')
    p.add_argument('--port', type=int, default=8080)
    p.add_argument('--cert')
    p.add_argument('--key')
    p.add_argument('--name')
    p.add_argument('--secret')
    p.add_argument('--host')
    p.add_argument('--seconds', type=float, default=10)
    p.add_argument('--interval', type=float, default=1)
    a = p.parse_args()
    ROLES[a.role](a)
