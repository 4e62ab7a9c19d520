//! The AT commands the simulator answers, one arm each. Anything else is `ERROR`, as a modem
//! answers a command it does not have.

use super::command_line::{args, Cmd, Op};
use super::{Fail, Modem, PendingSend, Settings, MEMORIES};

const MANUFACTURER: &str = "emg";
const MODEL: &str = "emgmodem GSM modem simulator";
const REVISION: &str = "1.0";
const IMEI: &str = "356938035643809";
const IMSI: &str = "240011234567890";

/// What `AT+CLAC` lists.
const COMMANDS: &[&str] = &[
    "AT", "ATE", "ATI", "ATQ", "ATV", "ATZ", "AT&F", "AT+CFUN", "AT+CGMI", "AT+CGMM", "AT+CGMR",
    "AT+CGSN", "AT+CIMI", "AT+CLAC", "AT+CMEE", "AT+CMGD", "AT+CMGF", "AT+CMGL", "AT+CMGR",
    "AT+CMGS", "AT+CNMA", "AT+CNMI", "AT+COPS", "AT+CPIN", "AT+CPMS", "AT+CREG", "AT+CSCA",
    "AT+CSCS", "AT+CSMP", "AT+CSMS", "AT+CSQ", "AT+GMI", "AT+GMM", "AT+GMR", "AT+GSN",
];

/// `+CMS ERROR` texts (TS 27.005 §3.2.5) for `AT+CMEE=2`.
pub fn cms_text(n: u16) -> &'static str {
    match n {
        300 => "ME failure",
        302 => "operation not allowed",
        303 => "operation not supported",
        304 => "invalid PDU mode parameter",
        310 => "SIM not inserted",
        311 => "SIM PIN required",
        321 => "invalid memory index",
        322 => "memory full",
        330 => "SMSC address unknown",
        331 => "no network service",
        332 => "network timeout",
        _ => "unknown error",
    }
}

/// `+CME ERROR` texts (TS 27.007 §9.2) for `AT+CMEE=2`.
pub fn cme_text(n: u16) -> &'static str {
    match n {
        3 => "operation not allowed",
        4 => "operation not supported",
        11 => "SIM PIN required",
        16 => "incorrect password",
        21 => "invalid index",
        _ => "unknown",
    }
}

fn flag(v: Option<u32>, max: u32) -> Result<u32, Fail> {
    match v.unwrap_or(0) {
        n if n <= max => Ok(n),
        _ => Err(Fail::Error),
    }
}

fn memory(name: &str) -> Result<usize, Fail> {
    MEMORIES
        .iter()
        .position(|m| m.eq_ignore_ascii_case(name))
        .ok_or(Fail::Cms(302))
}

impl Modem {
    /// Commands that work without the SIM PIN.
    fn needs_no_sim(cmd: &Cmd) -> bool {
        match cmd {
            Cmd::Basic { .. } | Cmd::Register { .. } => true,
            Cmd::Extended { name, .. } => matches!(
                name.as_str(),
                "+CMEE"
                    | "+CPIN"
                    | "+CGMI"
                    | "+CGMM"
                    | "+CGMR"
                    | "+CGSN"
                    | "+GMI"
                    | "+GMM"
                    | "+GMR"
                    | "+GSN"
                    | "+CFUN"
                    | "+CLAC"
                    | "+CSQ"
                    | "+CSCS"
            ),
            Cmd::Dial(_) => false,
        }
    }

    pub(super) fn run(&mut self, cmd: &Cmd) -> Result<(), Fail> {
        if !self.pin_ok && !Self::needs_no_sim(cmd) {
            let is_sms = matches!(cmd, Cmd::Extended { name, .. } if name.starts_with("+CM")
                || name.starts_with("+CN") || name == "+CPMS" || name == "+CSCA");
            return Err(if is_sms {
                Fail::Cms(311)
            } else {
                Fail::Cme(11)
            });
        }
        match cmd {
            Cmd::Basic { name, value } => self.basic(name, *value),
            Cmd::Register { .. } => Ok(()),
            Cmd::Dial(number) => self.dial(number),
            Cmd::Extended { name, op } => self.extended(name, op),
        }
    }

    fn basic(&mut self, name: &str, value: Option<u32>) -> Result<(), Fail> {
        match name {
            "E" => self.set.echo = flag(value, 1)? == 1,
            // Verbose result codes only: numeric ones (V0) are not simulated.
            "V" if value == Some(1) => {}
            "Q" if value.unwrap_or(0) == 0 => {}
            "Z" | "&F" => {
                self.hang_up_command();
                self.set = Settings::default();
            }
            "I" => self.info(&format!("{MANUFACTURER} {MODEL} {REVISION}")),
            "&C" | "&D" | "&K" | "X" | "L" | "M" => {}
            "H" => self.hang_up_command(),
            "O" => return self.online_again(),
            _ => return Err(Fail::Error),
        }
        Ok(())
    }

    fn extended(&mut self, name: &str, op: &Op) -> Result<(), Fail> {
        match (name, op) {
            ("+CGMI" | "+GMI", Op::Exec) => self.info(MANUFACTURER),
            ("+CGMM" | "+GMM", Op::Exec) => self.info(MODEL),
            ("+CGMR" | "+GMR", Op::Exec) => self.info(REVISION),
            ("+CGSN" | "+GSN", Op::Exec) => self.info(IMEI),
            ("+CIMI", Op::Exec) => self.info(IMSI),
            ("+CLAC", Op::Exec) => {
                for c in COMMANDS {
                    self.info(c);
                }
            }
            ("+CMEE", Op::Read) => self.info(&format!("+CMEE: {}", self.set.cmee)),
            ("+CMEE", Op::Test) => self.info("+CMEE: (0-2)"),
            ("+CMEE", Op::Set(a)) => {
                self.set.cmee = flag(a.parse().ok(), 2)? as u8;
            }
            ("+CFUN", Op::Read) => self.info("+CFUN: 1"),
            ("+CFUN", Op::Set(a)) if a.starts_with('1') => {}
            ("+CPIN", Op::Read) => {
                let state = if self.pin_ok { "READY" } else { "SIM PIN" };
                self.info(&format!("+CPIN: {state}"));
            }
            ("+CPIN", Op::Set(a)) => {
                let given = args(a).into_iter().next().unwrap_or_default();
                match &self.opts.pin {
                    _ if self.pin_ok => return Err(Fail::Cme(3)),
                    Some(pin) if *pin == given => self.pin_ok = true,
                    _ => return Err(Fail::Cme(16)),
                }
            }
            ("+CSQ", Op::Exec) => self.info("+CSQ: 20,99"),
            ("+CSQ", Op::Test) => self.info("+CSQ: (0-31,99),(0-7,99)"),
            // Registered, home network.
            ("+CREG", Op::Read) => self.info(&format!("+CREG: {},1", self.set.creg)),
            ("+CREG", Op::Set(a)) => self.set.creg = flag(a.parse().ok(), 2)? as u8,
            ("+COPS", Op::Read) => self.info("+COPS: 0,0,\"emg test network\""),
            ("+COPS", Op::Set(_)) => {}
            ("+CSCS", Op::Read) => self.info(&format!("+CSCS: \"{}\"", self.set.cscs)),
            ("+CSCS", Op::Test) => self.info("+CSCS: (\"GSM\",\"IRA\")"),
            ("+CSCS", Op::Set(a)) => {
                let cs = args(a).into_iter().next().unwrap_or_default();
                if !matches!(cs.as_str(), "GSM" | "IRA") {
                    return Err(Fail::Cme(4));
                }
                self.set.cscs = cs;
            }
            ("+CSMS", Op::Read) => self.info("+CSMS: 0,1,1,1"),
            ("+CSMS", Op::Test) => self.info("+CSMS: (0)"),
            ("+CSMS", Op::Set(a)) if a == "0" => self.info("+CSMS: 1,1,1"),
            ("+CMGF", Op::Read) => self.info("+CMGF: 0"),
            ("+CMGF", Op::Test) => self.info("+CMGF: (0)"),
            // PDU mode only: text mode is refused, as on modems without it.
            ("+CMGF", Op::Set(a)) if a == "0" => {}
            ("+CMGF", Op::Set(_)) => return Err(Fail::Cms(303)),
            ("+CSCA", Op::Read) => {
                let toa = if self.sca.starts_with('+') { 145 } else { 129 };
                self.info(&format!("+CSCA: \"{}\",{toa}", self.sca));
            }
            ("+CSCA", Op::Set(a)) => {
                let sca = args(a).into_iter().next().unwrap_or_default();
                if sca.is_empty() {
                    return Err(Fail::Cms(304));
                }
                self.sca = sca;
            }
            ("+CSMP", Op::Read) => {
                let p = self.set.csmp;
                self.info(&format!("+CSMP: {},{},{},{}", p[0], p[1], p[2], p[3]));
            }
            ("+CSMP", Op::Set(a)) => {
                for (slot, v) in self.set.csmp.iter_mut().zip(args(a)) {
                    if let Ok(n) = v.parse() {
                        *slot = n;
                    }
                }
            }
            ("+CPMS", Op::Test) => {
                self.info("+CPMS: (\"SM\",\"ME\",\"SR\"),(\"SM\",\"ME\"),(\"SM\",\"ME\")")
            }
            ("+CPMS", Op::Read) => {
                let parts: Vec<String> = self
                    .set
                    .cpms
                    .iter()
                    .map(|&m| {
                        let mem = &self.mems[m];
                        format!("\"{}\",{},{}", MEMORIES[m], mem.slots.len(), mem.capacity)
                    })
                    .collect();
                self.info(&format!("+CPMS: {}", parts.join(",")));
            }
            ("+CPMS", Op::Set(a)) => {
                let names = args(a);
                for (i, n) in names.iter().enumerate().take(3) {
                    let m = memory(n)?;
                    // SR holds status reports only; messages are written and received elsewhere.
                    if i > 0 && m == 2 {
                        return Err(Fail::Cms(302));
                    }
                    self.set.cpms[i] = m;
                }
                let parts: Vec<String> = self
                    .set
                    .cpms
                    .iter()
                    .map(|&m| format!("{},{}", self.mems[m].slots.len(), self.mems[m].capacity))
                    .collect();
                self.info(&format!("+CPMS: {}", parts.join(",")));
                self.store_backlog();
            }
            ("+CNMI", Op::Read) => {
                let c = self.set.cnmi;
                self.info(&format!(
                    "+CNMI: {},{},{},{},{}",
                    c[0], c[1], c[2], c[3], c[4]
                ));
            }
            ("+CNMI", Op::Test) => self.info("+CNMI: (0-2),(0-3),(0),(0-2),(0,1)"),
            ("+CNMI", Op::Set(a)) => {
                let max = [2, 3, 0, 2, 1];
                let mut cnmi = self.set.cnmi;
                for (i, v) in args(a).iter().enumerate() {
                    if i >= 5 {
                        return Err(Fail::Cms(302));
                    }
                    if v.is_empty() {
                        continue;
                    }
                    cnmi[i] = match v.parse::<u8>() {
                        Ok(n) if n <= max[i] => n,
                        _ => return Err(Fail::Cms(303)),
                    };
                }
                self.set.cnmi = cnmi;
            }
            ("+CNMA", Op::Exec) => {}
            ("+CMGS", Op::Set(a)) => {
                let length = a.trim().parse::<usize>().map_err(|_| Fail::Cms(304))?;
                if length == 0 || length > 164 {
                    return Err(Fail::Cms(304));
                }
                self.pending_send = Some(PendingSend {
                    length,
                    hex: Vec::new(),
                });
                self.out.extend_from_slice(b"\r\n> ");
            }
            ("+CMGL", Op::Exec) => self.list(4)?,
            ("+CMGL", Op::Set(a)) => {
                let stat = a.trim().parse::<u8>().map_err(|_| Fail::Cms(304))?;
                if stat > 4 {
                    return Err(Fail::Cms(304));
                }
                self.list(stat)?;
            }
            ("+CMGL", Op::Test) => self.info("+CMGL: (0-4)"),
            ("+CMGR", Op::Set(a)) => {
                let index = a.trim().parse::<u32>().map_err(|_| Fail::Cms(321))?;
                self.read(index)?;
            }
            ("+CMGD", Op::Set(a)) => {
                let a = args(a);
                let index = a[0].parse::<u32>().map_err(|_| Fail::Cms(321))?;
                let delflag = match a.get(1) {
                    Some(f) => f
                        .parse::<u8>()
                        .ok()
                        .filter(|f| *f <= 4)
                        .ok_or(Fail::Cms(304))?,
                    None => 0,
                };
                self.delete(index, delflag)?;
            }
            ("+CMGD", Op::Test) => {
                let m = &self.mems[self.set.cpms[0]];
                let used: Vec<String> = m.slots.keys().map(u32::to_string).collect();
                self.info(&format!("+CMGD: ({}),(0-4)", used.join(",")));
            }
            // Call handling: there are no calls, so there is nothing to switch on or off.
            ("+CLIP" | "+CRC" | "+CVHU", Op::Set(_)) => {}
            _ => return Err(Fail::Error),
        }
        Ok(())
    }
}
