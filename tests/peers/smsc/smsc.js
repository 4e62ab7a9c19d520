#!/usr/bin/env node
// A test SMSC built on the npm `smpp` package (a third-party SMPP implementation), for
// emgd's outgoing SMPP connector tests.
//
//   node smsc.js --port 2775 --out state.json [--system-id emg] [--password secret]
//                [--id-format hex|decimal|zeros] [--receipt tlv|text] [--dlr-delay MS]
//                [--receipt-first] [--throttle-share 0.1] [--id-base 10000000] [--mo-reply]
//                [--resend-unacked] [--no-receipts] [--bench] [--tls-cert PEM --tls-key PEM]
//                [--congestion STATE:FROM:TO] [--sme-ack] [--resp-delay MS]
//
// It accepts binds with the given system_id/password (others get ESME_RINVPASWD, 0x0e),
// answers submit_sm with a message id in the chosen format, and sends a delivery receipt
// (deliver_sm, esm_class 0x04) for each submit that asked for one:
//   hex:     submit_sm_resp "989A68" (upper case); receipt TLV "989a68", text id decimal
//   decimal: submit_sm_resp "10001000"; receipt the same
//   zeros:   submit_sm_resp "0010001000"; receipt "10001000"
// `--receipt text` leaves out the receipted_message_id and message_state TLVs: the id is
// only in the text. `--receipt-first` sends the receipt before the submit_sm_resp.
// `--throttle-share S` answers that share of submits with ESME_RTHROTTLED (0x58).
// A submit on a transmitter bind gets its receipt on a receiver (or transceiver) bind of the
// same system_id, as SMSCs do for SMPP 3.3 pairs and split 3.4 binds (`receipts_elsewhere`
// counts them); with none bound it waits for one (`--resend-unacked`) or is dropped
// (`receipts_unsendable`).
// `--tls-cert`/`--tls-key` serve SMPP over TLS (node's tls module) with that certificate.
// `--no-receipts` never sends a receipt (an SMSC that loses them all).
// `--congestion STATE:FROM:TO` answers the accepted submits numbered FROM to TO-1 (from 0, in
// arrival order) with the SMPP 5.0 congestion_state TLV set to STATE (0-100); the others carry
// none, as an SMSC that is no longer congested.
// `--sme-ack` answers each accepted submit whose registered_delivery asks for an SME
// delivery acknowledgement (bit 0x04) with a deliver_sm of esm_class 0x08 (the handset's
// acknowledgement, not a receipt) from its destination, text "ack:" + its text, right after
// the submit_sm_resp and before any receipt; `<out>.smeack` gets each one's deliver_sm_resp
// status.
// `--resp-delay MS` answers each accepted submit_sm MS milliseconds after it arrived (it is
// recorded at once): a slow SMSC, so a client's window holds submits sent and not answered.
// `--resend-unacked` keeps every receipt until it is answered deliver_sm_resp status 0, as a
// real SMSC does: one whose session closed unanswered, or that was answered with an error, is
// sent again on the next bind that can receive (`receipts_resent` counts them).
//
// The state (binds, submits, message texts received, receipts sent and acknowledged) is
// written as JSON to --out at start, whenever it changes (at most every 100 ms) and on SIGTERM.
// Each accepted message's text is also appended to `<out>.texts` (one JSON string a line)
// before its submit_sm_resp goes out, and to `<out>.acked` when its receipt is acknowledged.
// `<out>.parts` gets one JSON object a line per accepted submit_sm, in arrival order: the
// session number, esm_class, data_coding, the UDH information elements in hex, the sar_* TLVs,
// whether the text came in message_payload, and the decoded text.
// `<out>.submits` gets each accepted submit_sm's addresses (with TON/NPI), text, and its
// user_message_reference, source_port, destination_port, privacy_indicator,
// language_indicator, callback_num (as the npm package decodes it: a list of { digit_mode,
// ton, npi, number }) and billing_identification ({ format, data }) TLVs (null when
// absent), the instant its validity_period says as the npm `smpp` package reads it
// (`validity_us`, Unix µs; null when empty, the SMSC's default), and when it arrived
// (`at_us`, Unix µs). With
// `--mo-reply`, every accepted submit is answered by an MO deliver_sm from its destination to
// its source with the text "re:" + its text; `<out>.mo` gets each MO's deliver_sm_resp status.
// `--bench` (the side-by-side benchmark, emgbench --kannel) keeps no record per message, only
// the counters and the time of the last submit and receipt (`last_submit_us`,
// `last_receipt_us`, Unix µs).

'use strict';

const fs = require('fs');
const smpp = require('smpp');

function parseArgs(argv) {
	const opts = {
		port: 2775,
		out: null,
		systemId: 'emg',
		password: 'secret',
		idFormat: 'decimal',
		receipt: 'tlv',
		dlrDelay: 0,
		receiptFirst: false,
		resendUnacked: false,
		noReceipts: false,
		moReply: false,
		throttleShare: 0,
		idBase: 10000000,
		bench: false,
		congestion: null,
		smeAck: false,
		respDelay: 0,
	};
	for (let i = 2; i < argv.length; i++) {
		const a = argv[i];
		const next = () => {
			if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
			return argv[++i];
		};
		switch (a) {
			case '--port': opts.port = Number(next()); break;
			case '--out': opts.out = next(); break;
			case '--system-id': opts.systemId = next(); break;
			case '--password': opts.password = next(); break;
			case '--id-format': opts.idFormat = next(); break;
			case '--receipt': opts.receipt = next(); break;
			case '--dlr-delay': opts.dlrDelay = Number(next()); break;
			case '--receipt-first': opts.receiptFirst = true; break;
			case '--resend-unacked': opts.resendUnacked = true; break;
			case '--no-receipts': opts.noReceipts = true; break;
			case '--mo-reply': opts.moReply = true; break;
			case '--sme-ack': opts.smeAck = true; break;
			case '--throttle-share': opts.throttleShare = Number(next()); break;
			case '--id-base': opts.idBase = Number(next()); break;
			case '--bench': opts.bench = true; break;
			case '--resp-delay': opts.respDelay = Number(next()); break;
			case '--tls-cert': opts.tlsCert = next(); break;
			case '--tls-key': opts.tlsKey = next(); break;
			case '--congestion': {
				const [state, from, to] = next().split(':').map(Number);
				opts.congestion = { state, from, to };
				break;
			}
			default: throw new Error(`unknown argument ${a}`);
		}
	}
	if (!['hex', 'decimal', 'zeros'].includes(opts.idFormat)) throw new Error(`bad --id-format ${opts.idFormat}`);
	if (!['tlv', 'text'].includes(opts.receipt)) throw new Error(`bad --receipt ${opts.receipt}`);
	if (!opts.out) throw new Error('--out FILE is required');
	return opts;
}

const opts = parseArgs(process.argv);
fs.writeFileSync(opts.out + '.texts', '');
fs.writeFileSync(opts.out + '.acked', '');
fs.writeFileSync(opts.out + '.parts', '');
fs.writeFileSync(opts.out + '.submits', '');
fs.writeFileSync(opts.out + '.mo', '');
fs.writeFileSync(opts.out + '.smeack', '');
let sessions = 0;

function partOf(session, pdu) {
	const sm = pdu.short_message;
	const udh = (sm && typeof sm === 'object' && Array.isArray(sm.udh))
		? sm.udh.map((ie) => Buffer.from(ie).toString('hex')) : [];
	const sar = pdu.sar_msg_ref_num === undefined ? null
		: [pdu.sar_msg_ref_num, pdu.sar_total_segments, pdu.sar_segment_seqnum];
	return {
		session,
		esm_class: pdu.esm_class,
		data_coding: pdu.data_coding,
		udh,
		sar,
		payload: pdu.message_payload !== undefined,
		text: textOf(pdu),
	};
}

const state = {
	port: opts.port,
	binds: 0,
	bind_refused: 0,
	submits: 0,
	accepted: 0,
	throttled: 0,
	receipts_sent: 0,
	receipts_acked: 0,
	receipts_resent: 0,
	receipts_elsewhere: 0,
	receipts_unsendable: 0,
	enquire_links: 0,
	unbinds: 0,
	last_submit_us: 0,
	last_receipt_us: 0,
	texts: [],
};
let nextId = opts.idBase;
let dirty = true;

function save() {
	const tmp = opts.out + '.tmp';
	fs.writeFileSync(tmp, JSON.stringify(state));
	fs.renameSync(tmp, opts.out);
	dirty = false;
}
setInterval(() => { if (dirty) save(); }, 100);

function pad(n, width) {
	return String(n).padStart(width, '0');
}

function ids(n) {
	switch (opts.idFormat) {
		case 'hex':
			return { resp: n.toString(16).toUpperCase(), tlv: n.toString(16), text: String(n) };
		case 'zeros':
			return { resp: pad(n, 10), tlv: String(n), text: String(n) };
		default:
			return { resp: String(n), tlv: String(n), text: String(n) };
	}
}

function yymmddhhmm(d) {
	return pad(d.getFullYear() % 100, 2) + pad(d.getMonth() + 1, 2) + pad(d.getDate(), 2) +
		pad(d.getHours(), 2) + pad(d.getMinutes(), 2);
}

function textOf(pdu) {
	const sm = pdu.short_message;
	if (sm && typeof sm === 'object' && !Buffer.isBuffer(sm) && typeof sm.message === 'string' && sm.message.length > 0) {
		return sm.message;
	}
	if (Buffer.isBuffer(sm) && sm.length > 0) return sm.toString('latin1');
	if (pdu.message_payload) {
		const p = pdu.message_payload;
		return typeof p === 'string' ? p : (p.message || Buffer.from(p).toString('latin1'));
	}
	return '';
}

function sendMo(session, pdu) {
	sendBack(session, pdu, 're:', 0, '.mo');
}

// A deliver_sm from the submit's destination back to its source, with `prefix` before its
// text and `esmClass`; its answer's status appended to `<out><file>`.
function sendBack(session, pdu, prefix, esmClass, file) {
	const text = prefix + textOf(pdu);
	session.deliver_sm({
		source_addr_ton: pdu.dest_addr_ton,
		source_addr_npi: pdu.dest_addr_npi,
		source_addr: pdu.destination_addr,
		dest_addr_ton: pdu.source_addr_ton,
		dest_addr_npi: pdu.source_addr_npi,
		destination_addr: pdu.source_addr,
		esm_class: esmClass,
		data_coding: 0,
		short_message: Buffer.from(text, 'latin1'),
	}, (resp) => {
		fs.appendFileSync(opts.out + file, JSON.stringify({ text, status: resp.command_status }) + '\n');
	});
}

// Bound sessions that can take a deliver_sm (receiver, transceiver), by system_id.
const receivers = new Map();
let nextReceiver = 0;

// Sessions that closed: a receipt for a submit made on one goes to another session.
const closed = new WeakSet();

// The session a receipt for a submit on `session` goes out on: that one, unless it is a
// transmitter or closed; then a receiver of the same system_id (in turn), or null when none
// is bound (with `--resend-unacked` it waits for the next bind).
function receiptSession(session) {
	if (session.bindMode !== 'bind_transmitter' && !closed.has(session)) return session;
	const list = [...(receivers.get(session.systemId) || [])];
	if (list.length === 0) return null;
	state.receipts_elsewhere++;
	return list[nextReceiver++ % list.length];
}

function sendReceipt(submitter, pdu, id, submitted) {
	const now = new Date();
	const text = `id:${id.text} sub:001 dlvrd:001 submit date:${yymmddhhmm(submitted)} ` +
		`done date:${yymmddhhmm(now)} stat:DELIVRD err:000 text:${textOf(pdu).slice(0, 20)}`;
	const params = {
		source_addr_ton: pdu.dest_addr_ton,
		source_addr_npi: pdu.dest_addr_npi,
		source_addr: pdu.destination_addr,
		dest_addr_ton: pdu.source_addr_ton,
		dest_addr_npi: pdu.source_addr_npi,
		destination_addr: pdu.source_addr,
		esm_class: 0x04,
		data_coding: 0,
		short_message: Buffer.from(text, 'latin1'),
	};
	if (opts.receipt === 'tlv') {
		params.receipted_message_id = id.tlv;
		params.message_state = 2;
	}
	const receipt = { params, text: textOf(pdu) };
	const session = receiptSession(submitter);
	if (!session) {
		if (opts.resendUnacked) orphaned.push(receipt);
		else state.receipts_unsendable++;
		dirty = true;
		return;
	}
	if (deliverReceipt(session, receipt)) {
		state.receipts_sent++;
		dirty = true;
	}
}

// Receipts sent and not yet answered with status 0, per session (`--resend-unacked`), and
// the ones waiting for a session to be sent on again.
const unanswered = new Map();
let orphaned = [];

function deliverReceipt(session, receipt) {
	let mine = unanswered.get(session);
	if (opts.resendUnacked && !mine) {
		mine = new Set();
		unanswered.set(session, mine);
	}
	if (mine) mine.add(receipt);
	return session.deliver_sm(receipt.params, (resp) => {
		if (resp.command_status === 0) {
			if (mine) mine.delete(receipt);
			if (!opts.bench) fs.appendFileSync(opts.out + '.acked', JSON.stringify(receipt.text) + '\n');
			state.last_receipt_us = Date.now() * 1000;
			state.receipts_acked++;
			dirty = true;
		} else if (mine) {
			// Refused for now: send it again in a second, on whichever session is there then.
			mine.delete(receipt);
			orphaned.push(receipt);
			setTimeout(() => resendOrphans(session), 1000);
		}
	});
}

function sessionClosed(session) {
	closed.add(session);
	const bound = receivers.get(session.systemId);
	if (bound) bound.delete(session);
	const mine = unanswered.get(session);
	if (mine) orphaned.push(...mine);
	unanswered.delete(session);
}

function resendOrphans(session) {
	if (!unanswered.has(session)) return; // closed: the next bind sends them
	const again = orphaned;
	orphaned = [];
	for (const receipt of again) {
		state.receipts_resent++;
		dirty = true;
		deliverReceipt(session, receipt);
	}
}

let submitCount = 0;

// Every accepted message, in the files tests read; written before the answer, so a SIGKILL
// never loses a message we acknowledged.
function record(sessionNo, pdu, text) {
	state.texts.push(text);
	fs.appendFileSync(opts.out + '.texts', JSON.stringify(text) + '\n');
	fs.appendFileSync(opts.out + '.parts', JSON.stringify(partOf(sessionNo, pdu)) + '\n');
	fs.appendFileSync(opts.out + '.submits', JSON.stringify({
		source: pdu.source_addr, source_ton: pdu.source_addr_ton, source_npi: pdu.source_addr_npi,
		dest: pdu.destination_addr, dest_ton: pdu.dest_addr_ton, dest_npi: pdu.dest_addr_npi, text,
		user_message_reference: pdu.user_message_reference === undefined ? null : pdu.user_message_reference,
		source_port: pdu.source_port === undefined ? null : pdu.source_port,
		destination_port: pdu.dest_port === undefined ? null : pdu.dest_port,
		privacy_indicator: pdu.privacy_indicator === undefined ? null : pdu.privacy_indicator,
		language_indicator: pdu.language_indicator === undefined ? null : pdu.language_indicator,
		callback_num: pdu.callback_num === undefined ? null : pdu.callback_num,
		billing_identification: pdu.billing_identification === undefined ? null : {
			format: pdu.billing_identification.format,
			data: pdu.billing_identification.data.toString('latin1'),
		},
		registered_delivery: pdu.registered_delivery,
		validity_us: pdu.validity_period instanceof Date ? pdu.validity_period.getTime() * 1000 : null,
		at_us: Date.now() * 1000,
	}) + '\n');
}

function throttles(n, share) {
	return share > 0 && Math.floor((n + 1) * share) > Math.floor(n * share);
}

const tlsOptions = opts.tlsCert
	? { cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) }
	: {};
const server = smpp.createServer(tlsOptions, (session) => {
	session.on('error', () => { /* peer went away; nothing to do */ });
	session.on('close', () => sessionClosed(session));
	const sessionNo = ++sessions;
	let bound = false;
	const onBind = (pdu) => {
		if (pdu.system_id !== opts.systemId || pdu.password !== opts.password) {
			state.bind_refused++;
			dirty = true;
			session.send(pdu.response({ command_status: smpp.ESME_RINVPASWD, system_id: 'node-smsc' }));
			setTimeout(() => session.close(), 50);
			return;
		}
		bound = true;
		state.binds++;
		dirty = true;
		session.bindMode = pdu.command;
		session.systemId = pdu.system_id;
		session.send(pdu.response({ system_id: 'node-smsc' }));
		if (pdu.command !== 'bind_transmitter') {
			if (!receivers.has(pdu.system_id)) receivers.set(pdu.system_id, new Set());
			receivers.get(pdu.system_id).add(session);
		}
		if (opts.resendUnacked && pdu.command !== 'bind_transmitter') {
			unanswered.set(session, new Set());
			setTimeout(() => resendOrphans(session), 50);
		}
	};
	session.on('bind_transceiver', onBind);
	session.on('bind_transmitter', onBind);
	session.on('bind_receiver', onBind);
	session.on('enquire_link', (pdu) => {
		state.enquire_links++;
		dirty = true;
		session.send(pdu.response());
	});
	session.on('unbind', (pdu) => {
		state.unbinds++;
		dirty = true;
		session.send(pdu.response());
		setTimeout(() => session.close(), 50);
	});
	session.on('submit_sm', (pdu) => {
		state.submits++;
		dirty = true;
		if (!bound) {
			session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
			return;
		}
		if (throttles(submitCount++, opts.throttleShare)) {
			state.throttled++;
			session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
			return;
		}
		const id = ids(nextId++);
		const number = state.accepted;
		state.accepted++;
		const text = textOf(pdu);
		state.last_submit_us = Date.now() * 1000;
		if (!opts.bench) record(sessionNo, pdu, text);
		const submitted = new Date();
		const wantsReceipt = (pdu.registered_delivery & 0x03) !== 0 && !opts.noReceipts;
		const c = opts.congestion;
		const congested = c && number >= c.from && number < c.to;
		const answer = congested ? { message_id: id.resp, congestion_state: c.state } : { message_id: id.resp };
		const answerNow = () => session.send(pdu.response(answer));
		const respond = opts.respDelay > 0 ? () => setTimeout(answerNow, opts.respDelay) : answerNow;
		if (wantsReceipt && opts.receiptFirst) {
			sendReceipt(session, pdu, id, submitted);
			setTimeout(respond, 20);
		} else {
			respond();
			if (opts.smeAck && (pdu.registered_delivery & 0x04) !== 0) sendBack(session, pdu, 'ack:', 0x08, '.smeack');
			if (wantsReceipt) setTimeout(() => sendReceipt(session, pdu, id, submitted), opts.dlrDelay);
		}
		if (opts.moReply) setTimeout(() => sendMo(session, pdu), 20);
	});
});

server.on('error', (e) => {
	console.error(`smsc: ${e.message}`);
	process.exit(2);
});

server.listen(opts.port, '127.0.0.1', () => {
	save();
	console.log(`listening ${opts.port}`);
});

process.on('SIGTERM', () => {
	save();
	console.log(JSON.stringify(state));
	process.exit(0);
});
