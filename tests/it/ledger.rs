//! The command path: decisions, idempotency and concurrency through the real store.

use crate::helpers::{TestLedger, at, manager};
use app::{AppError, Outcome};
use domain::DomainError;
use domain::campaign::{NewCampaign, RedeemCodeword};
use domain::codeword::Codeword;
use domain::ids::{CampaignId, RedemptionId, RewardId};
use domain::network::{ActivityKind, ActivityRef, Network};
use domain::points::Points;
use domain::reward::RewardCommand;
use sqlx::PgPool;
use store::Metadata;
use uuid::Uuid;

fn comment(reference: &str) -> ActivityRef {
    ActivityRef {
        network: Network::Vk,
        kind: ActivityKind::Comment,
        reference: reference.into(),
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_redelivered_activity_pays_once(pool: PgPool) {
    let t = TestLedger::new(pool).await;
    let member = t.member().await;
    let award = || {
        t.ledger.award_activity(
            &t.program,
            member,
            comment("c1"),
            None,
            at(9),
            Metadata::default(),
            at(9),
        )
    };
    assert!(matches!(award().await.unwrap(), Outcome::Recorded { .. }));
    let again = award().await;
    assert!(
        matches!(
            again,
            Ok(Outcome::Duplicate) | Err(AppError::Denied(DomainError::DuplicateActivity))
        ),
        "{again:?}"
    );
    assert_eq!(t.balance(member).await, 10);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_reversal_happens_once_and_a_compensation_nets_to_zero(pool: PgPool) {
    let t = TestLedger::new(pool).await;
    let member = t.member().await;
    let pid = t.program_id();
    t.ledger
        .award_activity(
            &t.program,
            member,
            comment("c1"),
            None,
            at(9),
            Metadata::default(),
            at(9),
        )
        .await
        .unwrap();
    let reverse = || {
        t.ledger.reverse_activity(
            pid,
            member,
            comment("c1"),
            domain::event::ReversalReason::Deleted,
            Metadata::default(),
            at(10),
        )
    };
    reverse().await.unwrap();
    assert!(matches!(
        reverse().await,
        Err(AppError::Denied(DomainError::AlreadyCompensated(_)))
    ));
    assert_eq!(t.balance(member).await, 0);

    let bonus = t
        .ledger
        .adjust_points(
            pid,
            member,
            domain::points::PointsDelta::new(70).unwrap(),
            "contest winner",
            None,
            &manager(),
        )
        .await
        .unwrap();
    let Outcome::Recorded { events, .. } = bonus else {
        panic!("{bonus:?}")
    };
    let domain::Event::PointsAdjusted { entry_id, .. } = &events[0] else {
        panic!()
    };
    t.ledger
        .compensate_entry(pid, member, *entry_id, "wrong member", None, &manager())
        .await
        .unwrap();
    assert_eq!(t.balance(member).await, 0);
    let twice = t
        .ledger
        .compensate_entry(pid, member, *entry_id, "again", None, &manager())
        .await;
    assert!(matches!(
        twice,
        Err(AppError::Denied(DomainError::AlreadyCompensated(_)))
    ));
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn invalid_manual_amounts_change_nothing(pool: PgPool) {
    let t = TestLedger::new(pool).await;
    let member = t.member_with(30).await;
    assert!(domain::points::PointsDelta::new(0).is_err());
    assert!(domain::points::PointsDelta::new(i64::MAX).is_err());
    let overdraw = t
        .ledger
        .adjust_points(
            t.program_id(),
            member,
            domain::points::PointsDelta::new(-31).unwrap(),
            "fix",
            None,
            &manager(),
        )
        .await;
    assert!(matches!(
        overdraw,
        Err(AppError::Denied(DomainError::InsufficientBalance { .. }))
    ));
    let no_reason = t
        .ledger
        .adjust_points(
            t.program_id(),
            member,
            domain::points::PointsDelta::new(5).unwrap(),
            "  ",
            None,
            &manager(),
        )
        .await;
    assert!(matches!(
        no_reason,
        Err(AppError::Denied(DomainError::ReasonRequired))
    ));
    assert_eq!(t.balance(member).await, 30);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_thousand_members_race_for_the_last_reward(pool: PgPool) {
    let t = TestLedger::new(pool).await;
    let reward = RewardId(Uuid::new_v4());
    let pid = t.program_id();
    t.ledger
        .reward_command(pid, reward, &manager(), || RewardCommand::List {
            reward_id: reward,
            program_id: pid,
            title: "Coffee −20%".into(),
            cost: Points::new(100).unwrap(),
            stock: 1,
            terms: Default::default(),
            by: "manager:olga".into(),
            at: at(9),
        })
        .await
        .unwrap();
    let mut members = Vec::new();
    for _ in 0..1000 {
        members.push(t.member_with(100).await);
    }
    let attempts = members.iter().map(|&member| {
        let ledger = t.ledger.clone();
        tokio::spawn(async move {
            ledger
                .redeem_reward(
                    pid,
                    member,
                    reward,
                    RedemptionId(Uuid::new_v4()),
                    "CPN-1",
                    at(11),
                )
                .await
        })
    });
    let results = futures::future::join_all(attempts).await;
    let won = results
        .iter()
        .filter(|r| matches!(r, Ok(Ok(Outcome::Recorded { .. }))))
        .count();
    let out_of_stock = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(AppError::Denied(DomainError::RewardOutOfStock)))))
        .count();
    assert_eq!(won, 1);
    assert_eq!(out_of_stock, 999);
    let mut spent = 0;
    for m in members {
        spent += 100 - t.balance(m).await;
    }
    assert_eq!(spent, 100, "exactly one member paid");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_thousand_attempts_on_a_capped_codeword_pay_exactly_the_cap(pool: PgPool) {
    let t = TestLedger::new(pool).await;
    let pid = t.program_id();
    let campaign = CampaignId(Uuid::new_v4());
    t.ledger
        .create_campaign(NewCampaign {
            campaign_id: campaign,
            program_id: pid,
            name: "Autumn".into(),
            codeword: Codeword::parse("СЕКРЕТ").unwrap(),
            points: Points::new(50).unwrap(),
            starts_at: at(0),
            ends_at: at(23),
            total_cap: Some(10),
            networks: vec![Network::Vk, Network::Instagram],
            target_post: None,
            description: None,
            by: "manager:olga".into(),
            at: at(0),
        })
        .await
        .unwrap();
    let mut members = Vec::new();
    for _ in 0..250 {
        members.push(t.member().await);
    }
    // Each member tries four times at once: 1,000 attempts.
    let attempts = members
        .iter()
        .flat_map(|&m| std::iter::repeat_n(m, 4))
        .map(|member| {
            let ledger = t.ledger.clone();
            tokio::spawn(async move {
                let redeem = RedeemCodeword {
                    entry_id: domain::ids::EntryId(Uuid::nil()),
                    network: Network::Vk,
                    reference: format!("comment-{}", Uuid::new_v4()),
                    target: None,
                    occurred_at: at(10),
                    time_zone: chrono_tz::Europe::Moscow,
                    review: Default::default(),
                    at: at(10),
                };
                ledger
                    .redeem_codeword(pid, campaign, member, redeem, Metadata::default())
                    .await
            })
        });
    let results = futures::future::join_all(attempts).await;
    let paid = results
        .iter()
        .filter(|r| matches!(r, Ok(Ok(Outcome::Recorded { .. }))))
        .count();
    assert_eq!(paid, 10);
    let mut total = 0;
    for m in &members {
        let b = t.balance(*m).await;
        assert!(b == 0 || b == 50);
        total += b;
    }
    assert_eq!(total, 500);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn one_external_account_belongs_to_one_member(pool: PgPool) {
    let t = TestLedger::new(pool).await;
    let (anna, boris) = (t.member().await, t.member().await);
    let ig = t
        .account(&domain::network::ExternalIdentity::new(
            Network::Instagram,
            "17841400000000001",
            "1122334455667788",
        ))
        .await;
    let link_at = |m, when| {
        t.ledger.link_account(
            t.program_id(),
            m,
            ig,
            domain::event::LinkMethod::Code,
            Metadata::default(),
            when,
        )
    };
    let link = |m| link_at(m, at(9));
    link(anna).await.unwrap();
    assert!(matches!(
        link(boris).await,
        Err(AppError::Denied(DomainError::IdentityAlreadyClaimed(_)))
    ));
    assert_eq!(
        t.ledger.identity_owner(t.program_id(), &ig).await.unwrap(),
        Some(anna)
    );
    t.ledger
        .unlink_account(t.program_id(), anna, ig, Metadata::default(), at(10))
        .await
        .unwrap();
    // Given up, it is closed to others for the standard rules' week.
    let week = chrono::TimeDelta::days(7);
    assert!(matches!(
        link_at(boris, at(10) + week - chrono::TimeDelta::seconds(1)).await,
        Err(AppError::Denied(DomainError::RelinkCooldown { .. }))
    ));
    link_at(boris, at(10) + week).await.unwrap();
    assert_eq!(
        t.ledger.identity_owner(t.program_id(), &ig).await.unwrap(),
        Some(boris)
    );
}

/// Rules a manager changed through one process are in force in another within its freshness
/// (nothing else would tell it: its cached program state is only checked by its own appends).
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn rules_changed_through_another_process_are_in_force_here_within_seconds(pool: PgPool) {
    let t = TestLedger::new(pool.clone()).await;
    let fresh_for = std::time::Duration::from_millis(500);
    let config = app::LedgerConfig {
        program_fresh_for: fresh_for,
        ..app::LedgerConfig::default()
    };
    let here = app::Ledger::new(store::EventStore::new(pool), config);
    let program = t.program_id();
    let before = here.program(program).await.unwrap().rules.daily_cap;
    assert_ne!(before, Some(123));
    let mut rules = t.ledger.program(program).await.unwrap().rules;
    rules.daily_cap = Some(123);
    t.ledger
        .change_rules(program, rules, &manager())
        .await
        .unwrap();
    tokio::time::sleep(fresh_for + std::time::Duration::from_millis(100)).await;
    let after = here.program(program).await.unwrap();
    assert_eq!(after.rules.daily_cap, Some(123));
    assert_eq!(after.rules_version, 2);
}
