#!/usr/bin/env node
// A third-party HTTP load generator for the side-by-side benchmark (emgbench --kannel): the
// same client against emgd and against Kannel. Plain node, no packages.
//
//   node httpload.js --url http://127.0.0.1:13013/cgi-bin/sendsms --connections 32 --count 100000
//                    --param username=bench --param password=bench --param to=46701234567 ...
//                    [--callbacks] [--timeout-s 600]
//
// Keeps --connections keep-alive HTTP/1.1 connections busy with GET requests, each with the
// --param fields and a text of its own. With --callbacks each request also carries
// dlr-mask=1 and a dlr-url pointing at a sink in this process (`/dlr?ref=N`), and the run
// lasts until every accepted request's callback came (or the timeout). Prints one JSON
// object: accepted, refused, first_refusal, resp_seconds (first request to last answer),
// seconds (to the last callback, or answer), callbacks, resp_ms and callback_ms
// ([p50, p99, p99.9], request sent to answer / to callback).

'use strict';

const http = require('http');

function parseArgs(argv) {
	const o = { url: null, connections: 32, count: 1000, params: [], callbacks: false, timeoutS: 600 };
	for (let i = 2; i < argv.length; i++) {
		const a = argv[i];
		const next = () => {
			if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
			return argv[++i];
		};
		switch (a) {
			case '--url': o.url = next(); break;
			case '--connections': o.connections = Number(next()); break;
			case '--count': o.count = Number(next()); break;
			case '--param': {
				const kv = next();
				const eq = kv.indexOf('=');
				if (eq < 1) throw new Error(`--param wants key=value, not ${kv}`);
				o.params.push([kv.slice(0, eq), kv.slice(eq + 1)]);
				break;
			}
			case '--callbacks': o.callbacks = true; break;
			case '--timeout-s': o.timeoutS = Number(next()); break;
			default: throw new Error(`unknown argument ${a}`);
		}
	}
	if (!o.url) throw new Error('--url is required');
	return o;
}

const opts = parseArgs(process.argv);
const now = () => Number(process.hrtime.bigint() / 1000n); // µs
const sentAt = new Float64Array(opts.count);
const answeredIn = [];
const calledIn = [];
const called = new Uint8Array(opts.count);
let accepted = 0;
let refused = 0;
let firstRefusal = null;
let callbacks = 0;
let firstSent = 0;
let lastAnswer = 0;
let lastCallback = 0;
let next = 0;
let done = 0;

function percentiles(v) {
	if (v.length === 0) return null;
	v.sort((a, b) => a - b);
	const at = (q) => v[Math.min(v.length - 1, Math.floor(q * v.length))] / 1000;
	return [at(0.5), at(0.99), at(0.999)];
}

function finish() {
	const end = opts.callbacks ? Math.max(lastAnswer, lastCallback) : lastAnswer;
	console.log(JSON.stringify({
		accepted,
		refused,
		first_refusal: firstRefusal,
		callbacks,
		resp_seconds: (lastAnswer - firstSent) / 1e6,
		seconds: (end - firstSent) / 1e6,
		resp_ms: percentiles(answeredIn),
		callback_ms: percentiles(calledIn),
	}));
	process.exit(0);
}

function maybeFinish() {
	if (done < opts.count) return;
	if (!opts.callbacks || callbacks >= accepted) finish();
}

const sink = http.createServer((req, res) => {
	const q = new URL(req.url, 'http://sink').searchParams;
	const ref = Number(q.get('ref'));
	// Read the body (POST callbacks) before answering, as a real application would.
	req.on('data', () => {});
	req.on('end', () => {
		res.writeHead(200, { 'Content-Type': 'text/plain' });
		res.end('ok');
		if (Number.isInteger(ref) && ref >= 0 && ref < opts.count && !called[ref]) {
			called[ref] = 1;
			callbacks++;
			const t = now();
			lastCallback = t;
			calledIn.push(t - sentAt[ref]);
			maybeFinish();
		}
	});
});

const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections });
const base = new URL(opts.url);
const fixed = opts.params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

function pathFor(i, sinkPort) {
	let p = `${base.pathname}?${fixed}${fixed ? '&' : ''}text=${encodeURIComponent('bench message ' + i)}`;
	if (opts.callbacks) {
		const dlr = `http://127.0.0.1:${sinkPort}/dlr?ref=${i}&type=%d`;
		p += `&dlr-mask=1&dlr-url=${encodeURIComponent(dlr)}`;
	}
	return p;
}

function worker(sinkPort) {
	if (next >= opts.count) return;
	const i = next++;
	const t = now();
	if (firstSent === 0) firstSent = t;
	sentAt[i] = t;
	const req = http.request({
		host: base.hostname,
		port: base.port,
		path: pathFor(i, sinkPort),
		method: 'GET',
		agent,
	}, (res) => {
		let body = '';
		res.setEncoding('utf8');
		res.on('data', (c) => { body += c; });
		res.on('end', () => {
			const a = now();
			lastAnswer = a;
			answeredIn.push(a - t);
			if (res.statusCode >= 200 && res.statusCode < 300) {
				accepted++;
			} else {
				refused++;
				if (firstRefusal === null) firstRefusal = `HTTP ${res.statusCode}: ${body.trim().slice(0, 200)}`;
			}
			done++;
			maybeFinish();
			worker(sinkPort);
		});
	});
	req.on('error', (e) => {
		refused++;
		if (firstRefusal === null) firstRefusal = e.message;
		done++;
		maybeFinish();
		worker(sinkPort);
	});
	req.end();
}

sink.listen(0, '127.0.0.1', () => {
	const port = sink.address().port;
	for (let c = 0; c < opts.connections; c++) worker(port);
});

setTimeout(finish, opts.timeoutS * 1000);
