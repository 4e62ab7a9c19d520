//! The UCP/EMI 4.x specification's example frames, shared by the UCP integration tests.
#![allow(dead_code)]

/// Every example frame of the spec, operations and results.
pub const SPEC: &[&str] = &[
    "01/00045/O/30/66677789///1//////68656C6C6F/CE",
    "01/00041/R/30/A//66677789:180594141236/F3",
    "00/00070/O/01/01234567890/09876543210//3/53686F7274204D657373616765/D9",
    "00/00041/O/01/0888444///2/716436383334/C5",
    "05/00059/O/02/3/01111/02222/03333/0123456789//3/534D5343/52",
    "17/00069/O/02/5/01111/02222/03333/04444/05555/0123456789//2/563444/44",
    "15/00058/O/03/01234568/0756663/2435/0//////////3/434D47/1B",
    "22/00067/O/03/01234568/0756663//0////////1/0602961500/2/89123334/CF",
    "56/00089/O/30/0123456/0568243//1/0296877842/0139////454D492073706563696669636174696F6E/D4",
    "44/00077/O/30/0673845336//////1/1003961344/1203961200/4D657373616765204F4B/27",
    "02/00035/O/31/0234765439845/0139/A0",
    "18/00113/O/51/012345/09876//1/1920870340125000/4/0539//////3012961212//////3//4D657373616765203531/////////////CD",
    "39/00099/O/51/0657467/078769//1//7//1/0545765/0122/1/0808971800///////4/32/F5AA34DE////1/////////65",
    "00/00120/O/52/076523578/07686745/////////////120396111055////3//43616C6C20796F75206261636B206C617465722E///0//////////A3",
    "00/00234/O/53/1299998/3155555/////////////090196161057/1/108/090196161105/3//4D65737361676520666F7220333135353535352C2077697468206964656E74696669636174696F6E2039363031303931363130353720686173206265656E206275666665726564/////////////1F",
    "00/00087/O/54/012345/0111111//////1/0654321/0100/////010197120501////3///////////////4C",
    "65/00066/O/55/0786483/0786875676////////////////////////////////7B",
    "12/00115/O/56/0546546/08456556/////////////////3//39363039303131313339343420393630383038313232323232/////////////2A",
    "17/00098/O/57/55555//////////////////3//44657374696E6174696F6E3A203036363636363620/1////////////37",
    "22/00188/O/58/55555//////////////////3//44657374696E6174696F6E2030363636363636206964656E74696669636174696F6E3A2039363031313030393130343320686173206265656E2064656C657465642E/1////////////FF",
    "02/00059/O/60/07656765/2/1/1/50617373776F7264//0100//////61",
    "00/00058/O/61/04568768///2///0100/1920870340094000//5///06",
    "06/00043/R/01/A/01234567890:090196103258/4E",
    "12/00022/R/01/N/02//03",
    "82/00059/R/02/A/0654321:090196113940,065432:090196113940/86",
    "47/00022/R/02/N/01//0B",
    "01/00038/R/03/A/066666:090296103355/4F",
    "01/00022/R/03/N/22//05",
    "10/00039/R/30/A//067345:070295121212/6F",
    "11/00022/R/30/N/24//08",
    "04/00023/R/31/A/0003/2D",
    "00/00022/R/31/N/06//07",
    "00/00039/R/51/A//012234:090996101010/68",
    "00/00022/R/51/N/31//07",
    "00/00039/R/52/A//076567:010196010101/6C",
    "00/00022/R/52/N/01//05",
    "00/00032/R/53/A//020296020202/F2",
    "00/00022/R/53/N/02//07",
    "00/00039/R/54/A//012345:020197120005/65",
    "00/00022/R/54/N/04//0A",
    "00/00032/R/55/A//030395030303/F8",
    "09/00022/R/55/N/02//12",
    "10/00032/R/56/A//040497161604/07",
    "00/00022/R/56/N/01//09",
    "00/00020/R/57/A///9A",
    "47/00022/R/57/N/02//16",
    "00/00029/R/58/A//064564565/7D",
    "00/00027/R/58/N/02/07567/1A",
    "00/00019/R/60/A//6D",
    "00/00022/R/60/N/01//04",
    "00/00019/R/61/A//6E",
    "00/00022/R/61/N/02//06",
];

use crate::rng::XorShift;
use common::ucp::*;

fn short_content(r: &mut XorShift) -> Content {
    if r.chance(2) {
        Content::Numeric(r.digits(20))
    } else {
        Content::Alphanumeric(r.septets(160))
    }
}

fn content(r: &mut XorShift) -> Content {
    match r.below(4) {
        0 => Content::None,
        1 => Content::Numeric(r.digits(20)),
        2 => Content::Alphanumeric(r.septets(160)),
        _ => {
            let data = r.octets(140);
            let bits = (!r.chance(4)).then_some((data.len() * 8) as u16);
            Content::Transparent { bits, data }
        }
    }
}

fn xser(r: &mut XorShift) -> XSer {
    let items = (0..r.below(4))
        .map(|_| XSerItem {
            kind: [xser::UDH, xser::DCS, xser::BILLING_ID, r.next() as u8][r.below(4)],
            data: r.octets(20),
        })
        .collect();
    XSer { items }
}

pub fn random_sm(r: &mut XorShift) -> Sm {
    let mut s = Sm {
        adc: r.digits(16),
        oadc: r.digits(16),
        ac: r.digits(4),
        nrq: r.flag(),
        nadc: r.digits(16),
        nt: r.digit(7),
        npid: r.num(9999),
        lrq: r.flag(),
        lrad: r.digits(16),
        lpid: r.num(9999),
        dd: r.flag(),
        ddt: r.fixed(10),
        vp: r.fixed(10),
        rpid: r.num(9999),
        scts: r.fixed(12),
        dst: r.digit(2),
        rsn: r.num(999),
        dscts: r.fixed(12),
        content: content(r),
        mms: r.flag(),
        pr: r.flag(),
        dcs: r.digit(1),
        mcls: r.digit(3),
        rpi: r.digit(2),
        cpg: String::new(),
        rply: String::new(),
        otoa: ["", "1139"][r.below(2)].into(),
        hplmn: r.digits(16),
        xser: xser(r),
        res4: r.ira(3),
        res5: r.ira(3),
        extra: r.extra(),
    };
    if r.chance(3) {
        let text: String = common::gsm::decode_gsm(&r.septets(11));
        s.set_alphanumeric_originator(&text)
            .expect("decoded GSM text encodes");
    }
    s
}

/// Any body, with random values in every field, and an OT it belongs to.
pub fn random_frame(r: &mut XorShift) -> Frame {
    let trn = r.below(100) as u8;
    let (ot, body) = match r.below(9) {
        0 => (
            1,
            Body::CallInput(CallInput {
                adc: r.digits(16),
                oadc: r.digits(16),
                oac: r.ira(4),
                content: short_content(r),
                extra: r.extra(),
            }),
        ),
        1 => (
            2,
            Body::MultipleCallInput(MultipleCallInput {
                adcs: (0..r.below(5)).map(|_| r.digits(16)).collect(),
                oadc: r.digits(16),
                oac: r.ira(4),
                content: short_content(r),
                extra: r.extra(),
            }),
        ),
        2 => (
            3,
            Body::CallInputSs(CallInputSs {
                adc: r.digits(16),
                oadc: r.digits(16),
                oac: r.ira(4),
                gas: (0..r.below(3)).map(|_| r.digits(8)).collect(),
                rp: r.flag(),
                pr: r.flag(),
                lpr: r.ira(4),
                um: r.flag(),
                lum: r.ira(4),
                rc: r.flag(),
                lrc: r.ira(4),
                dd: r.flag(),
                ddt: r.fixed(10),
                content: short_content(r),
                extra: r.extra(),
            }),
        ),
        3 => (
            30,
            Body::Transfer(Transfer {
                adc: r.digits(16),
                oadc: r.digits(16),
                ac: r.digits(4),
                nrq: r.flag(),
                nadc: r.digits(16),
                npid: r.num(9999),
                dd: r.flag(),
                ddt: r.fixed(10),
                vp: r.fixed(10),
                amsg: r.septets(160),
                extra: r.extra(),
            }),
        ),
        4 => (
            31,
            Body::Alert(Alert {
                adc: r.digits(16),
                pid: r.num(9999),
                extra: r.extra(),
            }),
        ),
        5 => (51 + r.below(8) as u8, Body::Sm(Box::new(random_sm(r)))),
        6 => {
            let ot = [60, 61][r.below(2)];
            let s = Session {
                oadc: r.digits(16),
                oton: r.digit(9),
                onpi: r.digit(9),
                styp: r.digit(9),
                pwd: r.octets(16),
                npwd: r.octets(16),
                vers: ["0100", ""][r.below(2)].into(),
                ladc: r.digits(16),
                lton: r.digit(9),
                lnpi: r.digit(9),
                opid: if ot == 60 { r.num(99) } else { None },
                res1: r.ira(3),
                res2: if ot == 61 { r.ira(3) } else { String::new() },
                extra: r.extra(),
            };
            (ot, Body::Session(s))
        }
        7 => {
            let ot = Ot::ALL[r.below(Ot::ALL.len())];
            let mvp = if ot.result_has_mvp() {
                r.fixed(10)
            } else {
                String::new()
            };
            (
                ot.code(),
                Body::Ack(Ack {
                    mvp,
                    sm: r.ira(30),
                    extra: r.extra(),
                }),
            )
        }
        _ => (
            Ot::ALL[r.below(Ot::ALL.len())].code(),
            Body::Nack(Nack {
                ec: ErrorCode(r.below(100) as u8),
                sm: r.ira(30),
                extra: r.extra(),
            }),
        ),
    };
    Frame { trn, ot, body }
}
