//! Every read model after a varied history, read through the query functions the API uses.

use crate::support::*;
use chrono::Duration;
use domain::Event;
use domain::Timestamp;
use domain::folds::{BoardKey, Leaderboards, Period};
use domain::network::Network;
use projections::leaderboards::board_key;
use projections::live_boards::LiveBoards;
use projections::ranking::{PeriodKind, Ranked, current_board};
use projections::{audit, balances, campaigns, daily_stats, rewards};
use sqlx::PgPool;
use uuid::Uuid;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn every_model_follows_the_log_and_verify_finds_nothing(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    busy_history(&mut world, 8).await;
    world.drain().await;

    let b = balances::balance(&pool, PROGRAM, member(1).0)
        .await
        .unwrap()
        .unwrap();
    // Member 1: awards 10 + 20 (n % 4 + 1 = 2 awards), codeword 50, adjustment +40 -40.
    assert_eq!((b.current, b.earned, b.spent), (80, 80, 0));
    let b3 = balances::balance(&pool, PROGRAM, member(3).0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b3.spent, 20);
    assert!(
        balances::balance(&pool, PROGRAM, member(4).0)
            .await
            .unwrap()
            .unwrap()
            .blocked
    );

    let c = campaigns::campaign(&pool, PROGRAM, Uuid::from_u128(0xC1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            c.status.as_str(),
            c.redemptions,
            c.remaining,
            c.codeword.as_str()
        ),
        ("paused", 3, Some(7), "СЕКРЕТ")
    );
    let who = campaigns::codeword_redemptions(&pool, PROGRAM, c.campaign_id, 0, 10)
        .await
        .unwrap();
    assert_eq!(
        who.iter().map(|r| r.member_id).collect::<Vec<_>>(),
        vec![member(0).0, member(1).0, member(2).0]
    );

    let catalog = rewards::rewards(&pool, PROGRAM).await.unwrap();
    assert_eq!(
        (catalog[0].stock, catalog[0].issued, catalog[0].returned),
        (4, 2, 1)
    );
    let of2 = rewards::redemptions_of(&pool, PROGRAM, member(2).0, 10)
        .await
        .unwrap();
    assert_eq!(of2[0].refund, Some(20));

    let adjustments =
        projections::admin_log::adjustments(&pool, PROGRAM, Some(member(1).0), None, 10)
            .await
            .unwrap();
    assert_eq!(
        adjustments.iter().map(|a| a.delta).collect::<Vec<_>>(),
        vec![-40, 40]
    );
    assert!(adjustments[0].compensates.is_some());
    let actions = projections::admin_log::manager_actions(&pool, PROGRAM, None, 100)
        .await
        .unwrap();
    assert!(
        actions
            .iter()
            .any(|a| a.action == "MemberBlocked" && a.subject == format!("member-{}", member(4)))
    );

    // Sunday 22:00 UTC is Monday in Moscow: the program's zone decides the day and week.
    let days = daily_stats::daily_stats(
        &pool,
        PROGRAM,
        t0().date_naive(),
        t0().date_naive() + Duration::days(30),
    )
    .await
    .unwrap();
    assert!(days.iter().all(|d| d.day > t0().date_naive()));
    let first = days.iter().find(|d| d.network == "all").unwrap();
    assert_eq!(first.counters.new_members, 8);

    let report = audit::verify(&pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
    assert!(report.projections.iter().all(|p| p.behind == 0));
}

/// What the in-memory boards answer must be the domain's ranking of everything they have
/// seen: every member's place, the top list, and the neighbours on both sides.
async fn assert_board_is_the_fold(boards: &LiveBoards, domain: &Leaderboards, board: BoardKey) {
    let ranking = domain.ranking(&board);
    let expected_rank = |score: i64| 1 + ranking.iter().filter(|(_, s)| *s > score).count() as i64;
    let listed = boards.top(PROGRAM, board, 1_000).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|r| (r.member_id, r.score, r.rank))
            .collect::<Vec<_>>(),
        ranking
            .iter()
            .map(|(m, s)| (m.0, *s, expected_rank(*s)))
            .collect::<Vec<_>>(),
        "{board:?}"
    );
    for (i, (m, score)) in ranking.iter().enumerate() {
        let a = boards
            .around(PROGRAM, board, m.0, 3)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((a.me.rank, a.me.score), (expected_rank(*score), *score));
        let window = |range: std::ops::Range<usize>| -> Vec<_> {
            ranking[range]
                .iter()
                .map(|(m, s)| (m.0, *s, expected_rank(*s)))
                .collect()
        };
        let got = |rows: &[Ranked]| -> Vec<_> {
            rows.iter()
                .map(|r| (r.member_id, r.score, r.rank))
                .collect()
        };
        assert_eq!(got(&a.above), window(i.saturating_sub(3)..i), "above {i}");
        assert_eq!(
            got(&a.below),
            window(i + 1..(i + 4).min(ranking.len())),
            "below {i}"
        );
    }
    assert!(
        boards
            .around(PROGRAM, board, Uuid::nil(), 3)
            .await
            .unwrap()
            .is_none()
    );
}

/// Awards with many ties (0..=6 times 10), every ninth reversed to 0.
fn tied_history(world: &mut World, members: std::ops::Range<u128>, t: Timestamp) -> Vec<Event> {
    let mut events = Vec::new();
    for n in members {
        events.push(register(member(n), t));
        let entry = world.entry();
        let points = 10 * ((n * 7) % 6) as i64 + 10;
        events.push(award(entry, member(n), points, Network::Vk, t));
        if n % 9 == 0 {
            events.push(reverse(
                world.entry(),
                member(n),
                entry,
                points,
                Network::Vk,
                t,
            ));
        }
    }
    events
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn live_boards_rank_like_the_domain_wherever_they_load_from(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    let t = t0();
    let mut domain = Leaderboards::new(chrono_tz::Europe::Moscow);
    let all = BoardKey {
        period: Period::AllTime,
        network: None,
    };
    // The week board is Moscow's week: Monday 23 November 2026 is ISO week 48.
    let week = current_board(PeriodKind::Week, None, chrono_tz::Europe::Moscow, t.get());
    assert_eq!(board_key(&week), "w2026-48");
    let week_vk = BoardKey {
        network: Some(Network::Vk),
        ..week
    };

    // 1. Loaded from a read model that is up to date.
    let events = tied_history(&mut world, 0..40, t);
    events.iter().for_each(|e| domain.apply(e));
    world.append(events).await;
    world.drain().await;
    let boards = LiveBoards::new(pool.clone());
    assert_board_is_the_fold(&boards, &domain, all).await;

    // 2. The boards follow the log past the read model; a board loaded now starts from the
    //    older snapshot and replays the gap by itself.
    let events = tied_history(&mut world, 40..60, t);
    events.iter().for_each(|e| domain.apply(e));
    world.append(events).await;
    // Another test's open transaction can hold the gap-safe horizon back for a moment.
    let started = std::time::Instant::now();
    while boards.loaded_len(PROGRAM, all) != Some(60) {
        boards.catch_up().await.unwrap();
        assert!(
            started.elapsed().as_secs() < 30,
            "the boards never caught up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_board_is_the_fold(&boards, &domain, all).await;
    assert_board_is_the_fold(&boards, &domain, week).await;

    // 3. The read model runs ahead of the boards; a board loaded now brings the others up to
    //    its snapshot first.
    let events = tied_history(&mut world, 60..75, t);
    events.iter().for_each(|e| domain.apply(e));
    world.append(events).await;
    world.drain().await;
    assert_eq!(boards.loaded_len(PROGRAM, all), Some(60));
    assert_board_is_the_fold(&boards, &domain, week_vk).await;
    assert_eq!(boards.loaded_len(PROGRAM, all), Some(75));
    assert_board_is_the_fold(&boards, &domain, all).await;
    assert_board_is_the_fold(&boards, &domain, week).await;

    // 4. Idle boards are dropped and load again, equal.
    assert_eq!(boards.evict_idle(std::time::Duration::ZERO), 3);
    assert_eq!(boards.loaded_len(PROGRAM, all), None);
    assert_board_is_the_fold(&boards, &domain, all).await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn live_boards_follow_appends_as_they_happen(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    let t = t0();
    let events = tied_history(&mut world, 0..5, t);
    world.append(events).await;
    world.drain().await;
    let boards = LiveBoards::new(pool.clone());
    let all = BoardKey {
        period: Period::AllTime,
        network: None,
    };
    assert_eq!(boards.loaded_len(PROGRAM, all), None);
    assert_eq!(boards.top(PROGRAM, all, 10).await.unwrap().len(), 5);
    // Polling once an hour: only the append's wake-up can bring the award in time.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let follower = tokio::spawn(boards.clone().follow(
        world.store.wake().subscribe(),
        std::time::Duration::from_secs(3600),
        std::time::Duration::from_secs(3600),
        stopped,
    ));
    let entry = world.entry();
    world
        .append(vec![award(entry, member(3), 1_000, Network::Vk, t)])
        .await;
    let started = std::time::Instant::now();
    loop {
        let top = boards.top(PROGRAM, all, 1).await.unwrap();
        if top[0].member_id == member(3).0 {
            assert!(top[0].score >= 1_000);
            break;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "the award never reached the board"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let _ = stop.send(true);
    follower.await.unwrap();
}
