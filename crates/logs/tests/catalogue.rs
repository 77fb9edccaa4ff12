//! Every message of the Site-to-Site VPN log catalogue is classified, to the right entry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use netaudit_logs::catalogue::{classify, CATALOGUE};
use std::collections::BTreeSet;

const MESSAGES: &str = include_str!("data/s2s_catalogue_messages.tsv");

#[test]
fn every_catalogue_message_is_classified_to_its_entry() {
    let mut seen = BTreeSet::new();
    let mut count = 0;
    for line in MESSAGES.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (message, id) = line.split_once('\t').unwrap();
        let entry = classify(message).unwrap_or_else(|| panic!("not classified: {message:?}"));
        assert_eq!(entry.id, id, "{message:?}");
        assert!(!entry.explanation.is_empty() && !entry.fix.is_empty());
        seen.insert(entry.id);
        count += 1;
    }
    assert_eq!(count, 27);
    // Every entry is exercised by some documented message.
    let all: BTreeSet<&str> = CATALOGUE.iter().map(|e| e.id).collect();
    assert_eq!(seen, all);
}

#[test]
fn ids_are_unique_and_unknown_messages_stay_unclassified() {
    let ids: BTreeSet<&str> = CATALOGUE.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), CATALOGUE.len());
    assert!(classify("BGP session down").is_none());
    assert!(
        classify("AWS tunnel DPD timed out after  retransmits").is_none(),
        "a placeholder needs a value"
    );
    assert!(
        classify("aws tunnel is sending authentication_failed as the response").is_some(),
        "case does not matter"
    );
}
