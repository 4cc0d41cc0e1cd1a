//! The campaign decider and codeword redemptions across the campaign and member streams.

use super::{accepted, refused};
use crate::common::*;
use domain::campaign::{
    CampaignCommand, CampaignState, NewCampaign, RedeemCodeword, campaigns_to_pay, decide_among,
    decide_codeword,
};
use domain::codeword::Codeword;
use domain::member::{MemberCommand, MemberState};
use domain::network::Network;
use domain::{DomainError, Event};

/// A Vk-and-Telegram campaign paying 50 points, open from minute 0 to minute 600.
fn new_campaign(total_cap: Option<u32>) -> NewCampaign {
    NewCampaign {
        campaign_id: campaign(0),
        program_id: program(),
        name: "Spring".into(),
        codeword: Codeword::parse("СЕКРЕТ").expect("a valid codeword"),
        points: points(50),
        starts_at: minutes(0),
        ends_at: minutes(600),
        total_cap,
        networks: vec![Network::Vk, Network::Telegram],
        target_post: None,
        description: None,
        by: "manager".into(),
        at: t0(),
    }
}

fn created(new: NewCampaign) -> CampaignState {
    accepted(
        CampaignState::default(),
        CampaignState::default().decide(CampaignCommand::Create(Box::new(new))),
    )
}

fn open_campaign(total_cap: Option<u32>) -> CampaignState {
    created(new_campaign(total_cap))
}

fn registered(n: u8) -> MemberState {
    let register = MemberCommand::Register {
        member_id: member(n),
        program_id: program(),
        at: t0(),
    };
    accepted(
        MemberState::default(),
        MemberState::default().decide(register),
    )
}

fn written(network: Network, minute: i64) -> RedeemCodeword {
    RedeemCodeword {
        entry_id: entry(u64::try_from(minute).unwrap_or(0)),
        network,
        reference: format!("comment-{minute}"),
        target: Some("post-1".into()),
        occurred_at: minutes(minute),
        time_zone: chrono_tz::UTC,
        review: Default::default(),
        at: minutes(minute),
    }
}

fn on_vk() -> RedeemCodeword {
    written(Network::Vk, 10)
}

fn controlled(state: CampaignState, command: CampaignCommand) -> CampaignState {
    let decision = state.decide(command);
    accepted(state, decision)
}

fn pause() -> CampaignCommand {
    CampaignCommand::Pause {
        by: "m".into(),
        at: t0(),
    }
}

fn resume() -> CampaignCommand {
    CampaignCommand::Resume {
        by: "m".into(),
        at: t0(),
    }
}

fn end() -> CampaignCommand {
    CampaignCommand::End {
        by: "m".into(),
        at: t0(),
    }
}

#[test]
fn a_codeword_pays_the_campaign_points_in_both_streams() {
    let events = decide_codeword(&open_campaign(None), &registered(0), on_vk()).expect("paid");
    let member = events.iter().fold(registered(0), |s, e| s.evolve(e));
    let campaign = events.iter().fold(open_campaign(None), |s, e| s.evolve(e));
    assert_eq!(member.balance, 50);
    assert_eq!(campaign.redemptions(), 1);
}

#[test]
fn a_member_uses_a_codeword_once_on_any_network() {
    let events = decide_codeword(&open_campaign(None), &registered(0), on_vk()).expect("paid");
    let member = events.iter().fold(registered(0), |s, e| s.evolve(e));
    let campaign = events.iter().fold(open_campaign(None), |s, e| s.evolve(e));
    for network in [Network::Vk, Network::Telegram] {
        let decision = decide_codeword(&campaign, &member, written(network, 20));
        assert_eq!(refused(decision), DomainError::CodewordAlreadyUsed);
    }
}

#[test]
fn the_cap_stops_the_next_member() {
    let paid = decide_codeword(&open_campaign(Some(1)), &registered(0), on_vk()).expect("paid");
    let campaign = paid.iter().fold(open_campaign(Some(1)), |s, e| s.evolve(e));
    let decision = decide_codeword(&campaign, &registered(1), on_vk());
    assert_eq!(
        refused(decision),
        DomainError::CampaignCapReached { cap: 1 }
    );
}

#[test]
fn a_codeword_outside_the_window_is_refused() {
    for minute in [-1, 600, 601] {
        let decision = decide_codeword(
            &open_campaign(None),
            &registered(0),
            written(Network::Vk, minute),
        );
        assert_eq!(
            refused(decision),
            DomainError::CampaignNotActive,
            "minute {minute}"
        );
    }
}

#[test]
fn a_paused_or_ended_campaign_pays_nothing() {
    let paused = controlled(open_campaign(None), pause());
    assert_eq!(
        refused(decide_codeword(&paused, &registered(0), on_vk())),
        DomainError::CampaignNotActive
    );
    let ended = controlled(open_campaign(None), end());
    assert_eq!(
        refused(decide_codeword(&ended, &registered(0), on_vk())),
        DomainError::CampaignNotActive
    );
    let resumed = controlled(paused, resume());
    assert!(decide_codeword(&resumed, &registered(0), on_vk()).is_ok());
}

#[test]
fn an_ended_campaign_cannot_be_paused_or_resumed() {
    let ended = controlled(open_campaign(None), end());
    assert_eq!(
        refused(ended.decide(pause())),
        DomainError::CampaignNotActive
    );
    assert_eq!(
        refused(ended.decide(resume())),
        DomainError::CampaignNotActive
    );
    assert_eq!(ended.decide(end()).map(|e| e.len()), Ok(0));
}

#[test]
fn a_codeword_on_another_post_is_refused() {
    let campaign = created(NewCampaign {
        target_post: Some("post-2".into()),
        ..new_campaign(None)
    });
    assert_eq!(
        refused(decide_codeword(&campaign, &registered(0), on_vk())),
        DomainError::CampaignNotActive
    );
}

#[test]
fn a_codeword_from_another_network_is_refused() {
    let decision = decide_codeword(
        &open_campaign(None),
        &registered(0),
        written(Network::Instagram, 10),
    );
    assert_eq!(refused(decision), DomainError::NetworkNotAllowed);
}

#[test]
fn only_a_registered_active_member_redeems_a_created_campaign() {
    let unknown = decide_codeword(&CampaignState::default(), &registered(0), on_vk());
    assert_eq!(refused(unknown), DomainError::NotFound);
    let nobody = decide_codeword(&open_campaign(None), &MemberState::default(), on_vk());
    assert_eq!(refused(nobody), DomainError::MemberNotRegistered);
    let block = MemberCommand::Block {
        reason: "spam".into(),
        by: "m".into(),
        at: t0(),
    };
    let blocked = accepted(registered(0), registered(0).decide(block));
    let decision = decide_codeword(&open_campaign(None), &blocked, on_vk());
    assert_eq!(refused(decision), DomainError::MemberBlocked(member(0)));
}

#[test]
fn a_campaign_is_created_once_and_must_make_sense() {
    let again = open_campaign(None).decide(CampaignCommand::Create(Box::new(new_campaign(None))));
    assert_eq!(refused(again), DomainError::AlreadyExists);
    let invalid = [
        NewCampaign {
            ends_at: minutes(0),
            ..new_campaign(None)
        },
        NewCampaign {
            networks: vec![],
            ..new_campaign(None)
        },
        NewCampaign {
            name: "  ".into(),
            ..new_campaign(None)
        },
    ];
    for new in invalid {
        let decision = CampaignState::default().decide(CampaignCommand::Create(Box::new(new)));
        assert!(matches!(refused(decision), DomainError::InvalidRules(_)));
    }
}

#[test]
fn controlling_a_campaign_that_does_not_exist_is_not_found() {
    for command in [pause(), resume(), end()] {
        assert_eq!(
            refused(CampaignState::default().decide(command)),
            DomainError::NotFound
        );
    }
}

/// A second campaign (id 1) with `codeword`, on `networks`, open from `from` to `to` minutes.
fn other_campaign(codeword: &str, networks: Vec<Network>, from: i64, to: i64) -> NewCampaign {
    NewCampaign {
        campaign_id: campaign(1),
        codeword: Codeword::parse(codeword).expect("a valid codeword"),
        starts_at: minutes(from),
        ends_at: minutes(to),
        networks,
        points: points(10),
        ..new_campaign(None)
    }
}

fn create_beside(existing: &[CampaignState], new: NewCampaign) -> Result<Vec<Event>, DomainError> {
    decide_among(
        &CampaignState::default(),
        CampaignCommand::Create(Box::new(new)),
        existing,
    )
}

#[test]
fn a_campaign_whose_codeword_collides_with_a_live_one_is_refused() {
    let first = open_campaign(None);
    // Latin look-alikes, other case and spacing: the same codeword as matched.
    for word in ["СЕКРЕТ", "cekpet", "Се Крет!"] {
        let decision = create_beside(
            std::slice::from_ref(&first),
            other_campaign(word, vec![Network::Telegram], 500, 900),
        );
        assert_eq!(
            refused(decision),
            DomainError::CodewordTaken(campaign(0)),
            "{word}"
        );
    }
    // A paused campaign can resume, so it still holds its codeword.
    let paused = controlled(first.clone(), pause());
    let decision = create_beside(
        std::slice::from_ref(&paused),
        other_campaign("СЕКРЕТ", vec![Network::Vk], 0, 10),
    );
    assert_eq!(refused(decision), DomainError::CodewordTaken(campaign(0)));
}

#[test]
fn a_shared_codeword_is_allowed_when_window_network_or_status_keeps_them_apart() {
    let first = open_campaign(None);
    let apart = [
        other_campaign("СЕКРЕТ", vec![Network::Vk], 600, 900),
        other_campaign("СЕКРЕТ", vec![Network::Instagram], 0, 600),
        other_campaign("ДРУГОЕ", vec![Network::Vk], 0, 600),
    ];
    for new in apart {
        assert!(
            create_beside(std::slice::from_ref(&first), new.clone()).is_ok(),
            "{new:?}"
        );
    }
    let ended = controlled(first, end());
    let decision = create_beside(
        std::slice::from_ref(&ended),
        other_campaign("СЕКРЕТ", vec![Network::Vk], 0, 600),
    );
    assert!(decision.is_ok());
}

#[test]
fn resuming_a_campaign_whose_codeword_another_now_holds_is_refused() {
    let first = controlled(open_campaign(None), pause());
    // Old data: both exist (creation refuses this pair today).
    let second = created(other_campaign("СЕКРЕТ", vec![Network::Vk], 0, 600));
    let decision = decide_among(&first, resume(), std::slice::from_ref(&second));
    assert_eq!(refused(decision), DomainError::CodewordTaken(campaign(1)));
    // Pausing and ending need no check.
    assert!(decide_among(&second, pause(), std::slice::from_ref(&first)).is_ok());
}

#[test]
fn one_comment_pays_one_campaign_per_codeword_even_when_old_data_holds_two() {
    let first = open_campaign(None);
    let second = created(other_campaign("cekpet", vec![Network::Vk], 0, 900));
    let third = created(NewCampaign {
        campaign_id: campaign(2),
        ..other_campaign("ДРУГОЕ", vec![Network::Vk], 0, 900)
    });
    let all = [second.clone(), third, first.clone()];
    let paid = campaigns_to_pay(&all, "мой СЕКРЕТ и другое", Network::Vk, None, minutes(10));
    let ids: Vec<_> = paid.iter().map(|c| c.campaign_id).collect();
    // The one that started first (then the lower id) of the two sharing a codeword.
    assert_eq!(ids, [Some(campaign(0)), Some(campaign(2))]);
    // Of two sharing a codeword, the one that takes the comment's network is paid, even if it
    // started later.
    let later = created(NewCampaign {
        networks: vec![Network::Instagram],
        ..other_campaign("СЕКРЕТ", vec![], 1, 900)
    });
    let with_instagram = [first, later];
    let on_instagram = campaigns_to_pay(
        &with_instagram,
        "секрет",
        Network::Instagram,
        None,
        minutes(10),
    );
    assert_eq!(on_instagram.len(), 1);
    assert_eq!(on_instagram[0].campaign_id, Some(campaign(1)));
}

#[test]
fn a_description_is_trimmed_bounded_and_never_gives_the_codeword_away() {
    let with = |text: &str| NewCampaign {
        description: Some(text.into()),
        ..new_campaign(None)
    };
    let decided = CampaignState::default().decide(CampaignCommand::Create(Box::new(with(
        "  Найдите слово в весенних постах  ",
    ))));
    match decided.as_deref() {
        Ok([Event::CampaignCreated { description, .. }]) => {
            assert_eq!(
                description.as_deref(),
                Some("Найдите слово в весенних постах")
            );
        }
        other => panic!("{other:?}"),
    }
    let decided = CampaignState::default().decide(CampaignCommand::Create(Box::new(with("   "))));
    assert!(matches!(
        decided.as_deref(),
        Ok([Event::CampaignCreated {
            description: None,
            ..
        }])
    ));
    for giveaway in ["Слово — секрет!", "пишите CEKPET латиницей"] {
        let refused =
            CampaignState::default().decide(CampaignCommand::Create(Box::new(with(giveaway))));
        assert!(
            matches!(refused, Err(DomainError::InvalidRules(_))),
            "{giveaway}: {refused:?}"
        );
    }
    let long =
        CampaignState::default().decide(CampaignCommand::Create(Box::new(with(&"а".repeat(501)))));
    assert!(matches!(long, Err(DomainError::InvalidRules(_))));
}
