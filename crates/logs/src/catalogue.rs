//! The Site-to-Site VPN tunnel message catalogue: every IKEv1/IKEv2 message AWS documents, what it
//! means and what to do about it.
//!
//! Patterns are the documented texts; a placeholder (`{n}`) matches the variable part (an SPI, a
//! message id, a retry count, the customer gateway address). Matching ignores case.

use serde::Serialize;

/// What kind of event a message reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// The peer stopped answering dead peer detection: the tunnel goes down.
    DpdTimeout,
    /// Pre-shared key or IKE_AUTH failures.
    Authentication,
    /// No common encryption, hashing or DH group.
    ProposalMismatch,
    /// Traffic selectors (encryption domain) differ.
    TrafficSelector,
    /// Phase 1 or phase 2 could not be established or timed out half-open.
    NegotiationFailure,
    /// The customer gateway deleted an SA.
    PeerDelete,
    /// Rekey collisions, resolved by the protocol.
    RekeyCollision,
    /// Routine CREATE_CHILD_SA exchanges (rekeys).
    Negotiation,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::DpdTimeout => "dpd-timeout",
            Category::Authentication => "authentication",
            Category::ProposalMismatch => "proposal-mismatch",
            Category::TrafficSelector => "traffic-selector",
            Category::NegotiationFailure => "negotiation-failure",
            Category::PeerDelete => "peer-delete",
            Category::RekeyCollision => "rekey-collision",
            Category::Negotiation => "negotiation",
        }
    }

    /// Whether the message reports a fault rather than routine operation.
    pub fn is_error(self) -> bool {
        !matches!(self, Category::Negotiation | Category::RekeyCollision)
    }
}

/// One documented message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MessageEntry {
    /// A stable id for the entry.
    pub id: &'static str,
    /// The documented text; `{n}` stands for the variable part.
    pub pattern: &'static str,
    /// The IKE versions whose catalogue lists it.
    pub ike: &'static str,
    pub category: Category,
    /// AWS's explanation.
    pub explanation: &'static str,
    /// What to change.
    pub fix: &'static str,
}

const fn entry(
    id: &'static str,
    pattern: &'static str,
    ike: &'static str,
    category: Category,
    explanation: &'static str,
    fix: &'static str,
) -> MessageEntry {
    MessageEntry {
        id,
        pattern,
        ike,
        category,
        explanation,
        fix,
    }
}

/// The catalogue, in the documentation's order (IKEv1 errors, IKEv2 errors, IKEv2 negotiation).
pub const CATALOGUE: &[MessageEntry] = &[
    entry(
        "dpd-peer-dead",
        "Peer is not responsive - Declaring peer dead",
        "ikev1",
        Category::DpdTimeout,
        "Peer has not responded to DPD Messages, enforcing DPD time-out action.",
        "Check that the customer gateway is up and reachable on UDP 500/4500, that it answers DPD, and that its DPD interval and the tunnel's DPD timeout (default 30 s) suit the path; set the DPD timeout action to restart if the tunnel should come back on its own.",
    ),
    entry(
        "psk-decryption-failed",
        "AWS tunnel payload decryption was unsuccessful due to invalid Pre-shared Key",
        "ikev1",
        Category::Authentication,
        "Same Pre-Shared key needs to be configured on both IKE Peers.",
        "Configure the tunnel's pre-shared key from the downloaded configuration on the customer gateway, exactly (no trailing spaces).",
    ),
    entry(
        "no-proposal-by-aws",
        "No Proposal Match Found by AWS",
        "ikev1, ikev2",
        Category::ProposalMismatch,
        "Proposed Attributes for Phase 1 or Phase 2 (Encryption, Hashing and DH Group) are not supported by AWS VPN Endpoint, for example 3DES.",
        "Propose algorithms the tunnel allows (AES-128/256 or AES-GCM, SHA-2, DH group 14 or higher) on the customer gateway, or widen the tunnel's phase 1/2 options to match.",
    ),
    entry(
        "no-proposal-chosen",
        "No Proposal Match Found. Notifying with \"No proposal chosen\"",
        "ikev1, ikev2",
        Category::ProposalMismatch,
        "No Proposal Chosen error message is exchanged between Peers to inform that correct Proposals/Policies must be configured on IKE Peers (phase 2 for IKEv1).",
        "Make the phase 2 (IPsec) encryption, integrity, DH group and lifetime settings identical on the customer gateway and the tunnel options.",
    ),
    entry(
        "peer-delete-child-sa",
        "AWS tunnel received DELETE for Phase 2 SA with SPI: {n}",
        "ikev1, ikev2",
        Category::PeerDelete,
        "The customer gateway sent the Delete_SA message for Phase 2 (the CHILD_SA).",
        "If unexpected, check the customer gateway's phase 2 lifetime and idle timeout (idle tunnels are torn down by some devices); keep traffic or DPD flowing, or let AWS start the tunnel (startup action start).",
    ),
    entry(
        "peer-delete-ike-sa",
        "AWS tunnel received DELETE for IKE_SA from CGW",
        "ikev1, ikev2",
        Category::PeerDelete,
        "The customer gateway sent the Delete_SA message for Phase 1 (the parent IKE_SA).",
        "If unexpected, check the customer gateway's phase 1 lifetime, reboots and failover events around this time.",
    ),
    entry(
        "dpd-timeout-retransmits",
        "AWS tunnel DPD timed out after {n} retransmits",
        "ikev2",
        Category::DpdTimeout,
        "Peer has not responded to DPD Messages, enforcing DPD time-out action.",
        "Check the customer gateway's reachability (UDP 500/4500, NAT-T), its DPD responses, and the path's packet loss; raise the DPD timeout if the link is lossy.",
    ),
    entry(
        "child-rekey-collision",
        "AWS tunnel detected a (CHILD_REKEY) collision as CHILD_DELETE",
        "ikev2",
        Category::RekeyCollision,
        "CGW has sent the Delete_SA message for the Active SA, which is being rekeyed.",
        "Usually harmless. If it repeats, stagger rekey timers: set different phase 2 lifetimes (or rekey margin) on the two sides so only one initiates.",
    ),
    entry(
        "redundant-sa-deleted",
        "AWS tunnel (CHILD_SA) redundant SA is being deleted due to detected collision",
        "ikev2",
        Category::RekeyCollision,
        "Due to a collision, redundant SAs were generated; the peers close the redundant SA after matching nonce values (RFC 7296).",
        "Harmless on its own; if frequent, make one side the rekey initiator (different lifetimes).",
    ),
    entry(
        "phase2-failed-keeping-phase1",
        "AWS tunnel Phase 2 was unable to establish while keeping Phase 1",
        "ikev2",
        Category::NegotiationFailure,
        "Peer was unable to establish CHILD_SA due to negotiation error, for example an incorrect proposal.",
        "Compare the phase 2 proposals and traffic selectors on both sides; the messages just before this one name the mismatch.",
    ),
    entry(
        "ts-unacceptable",
        "AWS: Traffic Selector: TS_UNACCEPTABLE: received from responder",
        "ikev2",
        Category::TrafficSelector,
        "Peer has proposed incorrect Traffic Selectors (encryption domain). Peers should be configured with identical and correct CIDRs.",
        "Configure the same local and remote CIDRs on both sides (the connection's local/remote IPv4 network CIDR, 0.0.0.0/0 by default), or use a route-based (VTI) configuration on the customer gateway.",
    ),
    entry(
        "authentication-failed",
        "AWS tunnel is sending AUTHENTICATION_FAILED as the response",
        "ikev2",
        Category::Authentication,
        "The peer could not be authenticated by verifying the IKE_AUTH message's contents.",
        "Check the pre-shared key or certificate and the IKE identities (the customer gateway's IP or certificate) on both sides.",
    ),
    entry(
        "psk-mismatch",
        "AWS tunnel detected a pre-shared key mismatch with cgw: {n}",
        "ikev2",
        Category::Authentication,
        "Same Pre-Shared key needs to be configured on both IKE Peers.",
        "Set the same pre-shared key on the customer gateway and the tunnel (modify-vpn-tunnel-options --tunnel-options PreSharedKey=…).",
    ),
    entry(
        "phase1-timeout",
        "AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: {n}",
        "ikev2",
        Category::NegotiationFailure,
        "Deleting the half-opened IKE_SA as the peer has not proceeded with negotiations.",
        "Check that the customer gateway completes IKE_AUTH: reachability on UDP 4500, matching IKE version, and its logs for a rejected proposal or identity.",
    ),
    entry(
        "create-child-request-processed",
        "AWS tunnel processed request (id={n}) for CREATE_CHILD_SA",
        "ikev2",
        Category::Negotiation,
        "AWS has received the CREATE_CHILD_SA request from the CGW.",
        "None: a routine rekey.",
    ),
    entry(
        "create-child-response-sent",
        "AWS tunnel is sending response (id={n}) for CREATE_CHILD_SA",
        "ikev2",
        Category::Negotiation,
        "AWS is sending the CREATE_CHILD_SA response to the CGW.",
        "None: a routine rekey.",
    ),
    entry(
        "create-child-request-sent",
        "AWS tunnel is sending request (id={n}) for CREATE_CHILD_SA",
        "ikev2",
        Category::Negotiation,
        "AWS is sending a CREATE_CHILD_SA request to the CGW.",
        "None: a routine rekey.",
    ),
    entry(
        "create-child-response-processed",
        "AWS tunnel processed response (id={n}) for CREATE_CHILD_SA",
        "ikev2",
        Category::Negotiation,
        "AWS has received the CREATE_CHILD_SA response from the CGW.",
        "None: a routine rekey.",
    ),
];

/// The catalogue entry a message matches, if any.
pub fn classify(message: &str) -> Option<&'static MessageEntry> {
    let message = message.trim();
    CATALOGUE.iter().find(|e| matches_pattern(e.pattern, message))
}

/// Case-insensitive match where `{n}` matches one or more characters. A message may carry text
/// after the documented one (some devices' ids, a trailing period).
fn matches_pattern(pattern: &str, message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    let mut parts = pattern.split("{n}");
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut rest) = message.strip_prefix(first) else {
        return false;
    };
    for part in parts {
        // The placeholder takes at least one character.
        if rest.is_empty() {
            return false;
        }
        if part.is_empty() {
            rest = "";
            continue;
        }
        match rest.get(1..).and_then(|tail| tail.find(part)) {
            Some(at) => rest = &rest[1 + at + part.len()..],
            None => return false,
        }
    }
    true
}
