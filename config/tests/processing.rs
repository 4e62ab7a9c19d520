//! Valid message-processing configuration: mapping files, address rewriting, masquerading,
//! SAT pools and the blacklist, with inheritance.

use config::{AddressField, BlacklistAction};

const TEXT: &str = r#"
blacklist = "lists/blacklist.txt"
masquerade_key = "a long enough secret"

[satpool.mail]
addresses = ["4670000100-4670000102", "4670000200"]
expire = 3600
threaded = true
ton = 1
npi = 1

[connector.base]
virtual = true
type = "outgoing"
protocol = "sim"
mapping = "maps/smsc.map"
replaceprefix = "+:,00:,0:46,:+"
masquerade = true

[connector.smsc1]
inherit = "base"

[connector.smsc2]
inherit = "base"
replaceprefix = "+:"
masquerade = false
regexp_sourceaddr_in = "s/^0([1-9])/46$1/"
satpool_lookup_in = "mail"

[connector.mail-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:2775"
satpool_create_in = "mail"
removeprefix_in = "+,00"
requiresourceprefix = "00"
"#;

#[test]
fn every_processing_keyword_and_inheritance() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("maps")).unwrap();
    std::fs::create_dir(dir.path().join("lists")).unwrap();
    std::fs::write(
        dir.path().join("maps/smsc.map"),
        "IN <\n\"a\"\t\"b\"\n>\nOUT <\n\"a\"\t\"d\"\n\"aa\"\t\"xx\"\n>\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("lists/blacklist.txt"),
        "4670111\tREJECT\n4670222\tLOG\tDESTADDR\n",
    )
    .unwrap();
    let path = dir.path().join("emg.toml");
    let cfg = config::parse_str(TEXT, &path).unwrap_or_else(|e| panic!("{e}"));

    let list = cfg.general.blacklist.as_ref().expect("blacklist loaded");
    assert_eq!(
        list.get(AddressField::Source, "4670111"),
        Some(BlacklistAction::Reject)
    );
    assert_eq!(
        list.get(AddressField::Dest, "4670222"),
        Some(BlacklistAction::Log)
    );
    assert_eq!(
        cfg.general.masquerade_key.as_deref(),
        Some("a long enough secret")
    );

    let pool = &cfg.satpools["mail"];
    assert_eq!(
        pool.addresses,
        ["4670000100", "4670000101", "4670000102", "4670000200"]
    );
    assert_eq!(
        (pool.expire, pool.threaded, pool.ton, pool.npi),
        (3600, true, 1, 1)
    );

    // smsc1 inherits everything from the template.
    let p1 = &cfg.connectors["smsc1"].process;
    let map = p1.mapping.as_ref().expect("mapping inherited");
    assert_eq!(map.outbound.len(), 2);
    assert_eq!(map.inbound.len(), 1);
    assert!(map.file.ends_with("maps/smsc.map"));
    assert_eq!(p1.dest_out.replaceprefix.len(), 4);
    assert!(p1.masquerade);
    assert!(p1.dest_in.is_empty() && p1.source_out.is_empty());

    // smsc2's own keywords win; the rest still comes from the template.
    let p2 = &cfg.connectors["smsc2"].process;
    assert!(p2.mapping.is_some());
    assert_eq!(p2.dest_out.replaceprefix.len(), 1);
    assert!(!p2.masquerade);
    let re = p2.source_in.regexp.as_ref().expect("regexp");
    assert_eq!(re.replacement, "46${1}");
    assert_eq!(p2.satpool_lookup_in.as_deref(), Some("mail"));

    let pm = &cfg.connectors["mail-in"].process;
    assert_eq!(pm.satpool_create_in.as_deref(), Some("mail"));
    assert_eq!(pm.dest_in.removeprefix, ["+", "00"]);
    assert_eq!(pm.source_out.requireprefix.as_deref(), Some("00"));
    assert!(pm.mapping.is_none() && !pm.masquerade);
}
