//! Every built-in control says whether it can be decided on infrastructure as code.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn every_builtin_control_declares_whether_it_applies_before_deploy() {
    let (catalogue, errors) = netaudit_checks::builtin();
    assert!(errors.is_empty(), "{errors:?}");
    let mut left_out = vec![];
    for control in catalogue.controls() {
        let spec = control
            .file
            .iac
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no [iac] table", control.id()));
        assert!(!spec.reason.trim().is_empty(), "{}: [iac] needs a reason", control.id());
        if !spec.applies {
            left_out.push(control.id().to_owned());
        }
    }
    left_out.sort();
    // Runtime state only: tunnel status, delivery status, alarms matched by deployed ids.
    assert_eq!(left_out, ["EC2.20", "NETAUDIT.FLOWLOG.DELIVERY", "NETAUDIT.S2S.ALARM"]);
}
