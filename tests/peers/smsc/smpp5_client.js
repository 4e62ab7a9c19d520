#!/usr/bin/env node
// An SMPP client on the npm `smpp` package (a third-party SMPP 5.0 implementation), for
// emgd's incoming SMPP tests:
//
//   node smpp5_client.js --port 2775 [--user demo] [--password demo] [--version 80]
//                        [--submit N --dest 5551234]
//
// Binds as a transceiver with the given interface_version (decimal: 80 = 0x50, 52 = 0x34),
// then sends broadcast_sm, query_broadcast_sm and cancel_broadcast_sm, and prints one JSON
// object: the bind's status and sc_interface_version, and each broadcast answer's command
// and status. With `--submit N` it sends N submit_sm to --dest instead ("message I", with
// the SMPP 5.0 billing_identification TLV: format 1, data "bill-I"), and `submits` lists
// each answer's status and message_id.

'use strict';

const smpp = require('smpp');

const opts = { port: 2775, user: 'demo', password: 'demo', version: 0x50, submit: 0, dest: '5551234' };
for (let i = 2; i < process.argv.length; i += 2) {
	const v = process.argv[i + 1];
	switch (process.argv[i]) {
		case '--port': opts.port = Number(v); break;
		case '--user': opts.user = v; break;
		case '--password': opts.password = v; break;
		case '--version': opts.version = Number(v); break;
		case '--submit': opts.submit = Number(v); break;
		case '--dest': opts.dest = v; break;
		default: throw new Error(`unknown argument ${process.argv[i]}`);
	}
}

const report = {};
const session = smpp.connect({ host: '127.0.0.1', port: opts.port });
const fail = (why) => {
	report.error = why;
	console.log(JSON.stringify(report));
	process.exit(1);
};
session.on('error', (e) => fail(e.message));
setTimeout(() => fail('timed out'), 20000);

const answer = (pdu) => ({ command: pdu.command, status: pdu.command_status });

session.on('connect', () => {
	session.bind_transceiver({
		system_id: opts.user,
		password: opts.password,
		interface_version: opts.version,
	}, (bind) => {
		report.bind_status = bind.command_status;
		report.sc_interface_version = bind.sc_interface_version === undefined ? null : bind.sc_interface_version;
		if (bind.command_status !== 0) return fail('bind refused');
		if (opts.submit > 0) return submitAll();
		const area = { format: 1, data: Buffer.from('0001', 'hex') };
		session.broadcast_sm({
			source_addr_ton: 1,
			source_addr_npi: 1,
			source_addr: '4610000',
			message_id: '',
			data_coding: 0,
			broadcast_area_identifier: [area],
			broadcast_content_type: { network: 0, content_type: 0 },
			broadcast_rep_num: 1,
			broadcast_frequency_interval: { unit: 0x08, interval: 1 },
			message_payload: 'cell broadcast',
		}, (b) => {
			report.broadcast_sm = answer(b);
			session.query_broadcast_sm({ message_id: '1', source_addr: '4610000' }, (q) => {
				report.query_broadcast_sm = answer(q);
				session.cancel_broadcast_sm({ message_id: '1', source_addr: '4610000' }, (c) => {
					report.cancel_broadcast_sm = answer(c);
					session.unbind(() => {
						console.log(JSON.stringify(report));
						process.exit(0);
					});
				});
			});
		});
	});
});

// `--submit N`: N submit_sm with billing_identification, one after another, then unbind.
function submitAll() {
	report.submits = [];
	const next = (i) => {
		if (i === opts.submit) {
			return session.unbind(() => {
				console.log(JSON.stringify(report));
				process.exit(0);
			});
		}
		session.submit_sm({
			source_addr_ton: 1,
			source_addr_npi: 1,
			source_addr: '4610000',
			dest_addr_ton: 1,
			dest_addr_npi: 1,
			destination_addr: opts.dest,
			short_message: `message ${i}`,
			billing_identification: { format: 1, data: Buffer.from(`bill-${i}`) },
		}, (r) => {
			report.submits.push({ status: r.command_status, message_id: r.message_id });
			next(i + 1);
		});
	};
	next(0);
}
