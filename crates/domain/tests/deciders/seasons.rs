//! Seasons: the terms a manager may set, what a season's board counts (and what it does not),
//! its frozen standings with shared ranks and prizes, and who a prize is paid to.

use super::{accepted, refused};
use crate::common::*;
use chrono::Duration;
use domain::event::{ManagerId, ReversalReason};
use domain::ids::{EntryId, MemberId, SeasonId};
use domain::member::{MemberCommand, MemberState};
use domain::network::{ActivityKind, Network};
use domain::points::PointsDelta;
use domain::season::{
    SeasonBoard, SeasonCommand, SeasonCounts, SeasonPrize, SeasonState, SeasonStatus, SeasonTerms,
    Standing, decide_prize, decide_season,
};
use domain::{DomainError, Event, Timestamp};

fn season() -> SeasonId {
    SeasonId(uuid::Uuid::from_u128(0x6000))
}

fn manager() -> ManagerId {
    "manager".into()
}

/// A season over minutes 0–60, settling 10 minutes, every activity, no adjustments, prizes
/// 100 for first place and 50 for second and third.
fn terms() -> SeasonTerms {
    SeasonTerms {
        name: "Spring".into(),
        starts_at: minutes(0),
        ends_at: minutes(60),
        settle_minutes: 10,
        counts: SeasonCounts::default(),
        prizes: vec![
            SeasonPrize {
                from_rank: 1,
                to_rank: 1,
                points: 100,
            },
            SeasonPrize {
                from_rank: 2,
                to_rank: 3,
                points: 50,
            },
        ],
    }
}

fn schedule(terms: SeasonTerms, at: Timestamp) -> Result<Vec<Event>, DomainError> {
    decide_season(
        &SeasonState::default(),
        SeasonCommand::Schedule {
            program_id: program(),
            season_id: season(),
            terms,
            by: manager(),
            at,
        },
    )
}

fn scheduled() -> SeasonState {
    accepted(SeasonState::default(), schedule(terms(), minutes(-5)))
}

fn invalid(terms: SeasonTerms) -> String {
    match refused(schedule(terms, minutes(-5))) {
        DomainError::InvalidSeason(why) => why,
        other => panic!("expected an invalid season, got {other}"),
    }
}

fn registered(n: u8) -> MemberState {
    let register = MemberCommand::Register {
        member_id: member(n),
        program_id: program(),
        at: minutes(-10),
    };
    accepted(
        MemberState::default(),
        MemberState::default().decide(register),
    )
}

/// Member `n`'s stream and the log both grow by the events of `command`.
struct Members {
    states: Vec<MemberState>,
    log: Vec<Event>,
}

impl Members {
    fn new(n: u8) -> Self {
        Self {
            states: (0..n).map(registered).collect(),
            log: Vec::new(),
        }
    }

    fn run(&mut self, n: u8, command: MemberCommand) -> &mut Self {
        let state = &mut self.states[usize::from(n)];
        let events = state.decide(command).expect("accepted");
        *state = events
            .iter()
            .fold(std::mem::take(state), |s, e| s.evolve(e));
        self.log.extend(events);
        self
    }

    fn earn(
        &mut self,
        n: u8,
        entry_n: u64,
        kind: ActivityKind,
        points: i64,
        minute: i64,
    ) -> &mut Self {
        let a = activity(Network::Vk, kind, &format!("a{entry_n}"));
        self.run(
            n,
            MemberCommand::Award(award(entry(entry_n), a, points, minutes(minute))),
        )
    }

    fn reverse(&mut self, n: u8, entry_n: u64, kind: ActivityKind, at: i64) -> &mut Self {
        let activity = activity(Network::Vk, kind, &format!("a{entry_n}"));
        self.run(
            n,
            MemberCommand::Reverse {
                entry_id: entry(entry_n + 500),
                activity,
                reason: ReversalReason::Deleted,
                at: minutes(at),
            },
        )
    }

    fn adjust(&mut self, n: u8, entry_n: u64, delta: i64, at: i64) -> &mut Self {
        self.run(
            n,
            MemberCommand::Adjust {
                entry_id: entry(entry_n),
                delta: PointsDelta::new(delta).expect("a delta"),
                reason: "goodwill".into(),
                note: None,
                by: manager(),
                at: minutes(at),
            },
        )
    }

    fn compensate(&mut self, n: u8, entry_n: u64, target: u64, at: i64) -> &mut Self {
        self.run(
            n,
            MemberCommand::Compensate {
                entry_id: entry(entry_n),
                target: entry(target),
                reason: "fraud".into(),
                note: None,
                by: manager(),
                at: minutes(at),
            },
        )
    }

    fn board(&self, terms: SeasonTerms) -> SeasonBoard {
        let mut board = SeasonBoard::new(season(), terms);
        self.log.iter().for_each(|e| board.apply(e));
        board
    }
}

fn score(board: &SeasonBoard, n: u8) -> i64 {
    board.scores.get(&member(n)).copied().unwrap_or(0)
}

#[test]
fn terms_a_manager_may_not_set_are_refused_with_the_reason() {
    let t = terms();
    assert!(
        invalid(SeasonTerms {
            name: " ".into(),
            ..t.clone()
        })
        .contains("name")
    );
    let backwards = SeasonTerms {
        ends_at: minutes(-1),
        starts_at: minutes(0),
        ..t.clone()
    };
    assert!(invalid(backwards).contains("after the start"));
    let past = SeasonTerms {
        starts_at: minutes(-30),
        ends_at: minutes(-6),
        ..t.clone()
    };
    assert!(invalid(past).contains("already past"));
    let long = SeasonTerms {
        ends_at: minutes(0) + Duration::days(367),
        ..t.clone()
    };
    assert!(invalid(long).contains("366 days"));
    let nothing = SeasonTerms {
        counts: SeasonCounts {
            activities: vec![],
            adjustments: false,
        },
        ..t.clone()
    };
    assert!(invalid(nothing).contains("at least one"));
    let overlapping = SeasonTerms {
        prizes: vec![
            SeasonPrize {
                from_rank: 1,
                to_rank: 3,
                points: 10,
            },
            SeasonPrize {
                from_rank: 3,
                to_rank: 5,
                points: 5,
            },
        ],
        ..t.clone()
    };
    assert!(invalid(overlapping).contains("two prizes"));
    let too_deep = SeasonTerms {
        prizes: vec![SeasonPrize {
            from_rank: 1,
            to_rank: 101,
            points: 10,
        }],
        ..t.clone()
    };
    assert!(invalid(too_deep).contains("ranks"));
    let free = SeasonTerms {
        prizes: vec![SeasonPrize {
            from_rank: 1,
            to_rank: 1,
            points: 0,
        }],
        ..t
    };
    assert!(invalid(free).contains("points"));
}

#[test]
fn a_season_is_scheduled_once_and_a_past_start_means_now() {
    let late = SeasonTerms {
        starts_at: minutes(-60),
        ..terms()
    };
    let state = accepted(SeasonState::default(), schedule(late, minutes(-5)));
    assert_eq!(state.status, SeasonStatus::Scheduled);
    assert_eq!(state.terms.as_ref().map(|t| t.starts_at), Some(minutes(-5)));
    let again = decide_season(
        &state,
        SeasonCommand::Schedule {
            program_id: program(),
            season_id: season(),
            terms: terms(),
            by: manager(),
            at: minutes(-4),
        },
    );
    assert_eq!(refused(again), DomainError::AlreadyExists);
}

#[test]
fn the_board_counts_chosen_activity_inside_the_season_decided_before_the_cutoff() {
    let comments_only = SeasonTerms {
        counts: SeasonCounts {
            activities: vec![ActivityKind::Comment],
            adjustments: false,
        },
        ..terms()
    };
    let mut m = Members::new(2);
    m.earn(0, 1, ActivityKind::Comment, 10, 5)
        .earn(0, 2, ActivityKind::Codeword, 500, 6) // not chosen
        .earn(0, 3, ActivityKind::Comment, 7, -1) // before the start
        .earn(1, 4, ActivityKind::Comment, 4, 59)
        .earn(1, 5, ActivityKind::Comment, 8, 60); // at the end: outside
    let board = m.board(comments_only);
    assert_eq!((score(&board, 0), score(&board, 1)), (10, 4));
}

#[test]
fn a_late_delivery_counts_until_the_cutoff_and_not_after() {
    let mut m = Members::new(1);
    let late = |n: u64, decided: i64| {
        let a = activity(Network::Vk, ActivityKind::Comment, &format!("a{n}"));
        let mut award = award(entry(n), a, 5, minutes(59));
        award.at = minutes(decided);
        MemberCommand::Award(award)
    };
    m.run(0, late(1, 69)).run(0, late(2, 70));
    assert_eq!(score(&m.board(terms()), 0), 5, "the cutoff is minute 70");
}

#[test]
fn manual_adjustments_do_not_count_unless_the_season_says_so() {
    let mut m = Members::new(1);
    m.earn(0, 1, ActivityKind::Comment, 10, 5)
        .adjust(0, 2, 1_000, 6);
    assert_eq!(score(&m.board(terms()), 0), 10);
    let with_adjustments = SeasonTerms {
        counts: SeasonCounts {
            adjustments: true,
            ..SeasonCounts::default()
        },
        ..terms()
    };
    assert_eq!(score(&m.board(with_adjustments), 0), 1_010);
}

#[test]
fn undoing_a_counted_entry_counts_against_the_season_whenever_it_is_decided_before_the_cutoff() {
    let mut m = Members::new(1);
    m.earn(0, 1, ActivityKind::Comment, 10, 5)
        .earn(0, 2, ActivityKind::Reaction, 3, 6)
        .earn(0, 3, ActivityKind::Comment, 20, -5) // before the season
        .reverse(0, 1, ActivityKind::Comment, 65) // after the end, before the cutoff
        .compensate(0, 10, 2, 66)
        .compensate(0, 11, 3, 67); // an entry the season never counted
    assert_eq!(score(&m.board(terms()), 0), 0);
    let mut after_cutoff = Members::new(1);
    after_cutoff
        .earn(0, 1, ActivityKind::Comment, 10, 5)
        .reverse(0, 1, ActivityKind::Comment, 71);
    assert_eq!(score(&after_cutoff.board(terms()), 0), 10, "frozen by then");
}

#[test]
fn standings_share_ranks_on_ties_and_pay_each_rank_its_prize() {
    let mut m = Members::new(5);
    m.earn(0, 1, ActivityKind::Comment, 30, 1)
        .earn(1, 2, ActivityKind::Comment, 20, 2)
        .earn(2, 3, ActivityKind::Comment, 20, 3)
        .earn(3, 4, ActivityKind::Comment, 10, 4)
        .earn(4, 5, ActivityKind::Comment, 5, 5)
        .reverse(4, 5, ActivityKind::Comment, 6); // nothing left: not a participant
    let board = m.board(terms());
    let rows: Vec<(u32, MemberId, i64, i64)> = board
        .standings()
        .iter()
        .map(|s| (s.rank, s.member_id, s.score, s.prize))
        .collect();
    assert_eq!(
        rows,
        vec![
            (1, member(0), 30, 100),
            (2, member(1), 20, 50),
            (2, member(2), 20, 50),
            (4, member(3), 10, 0),
        ]
    );
    assert_eq!(board.participants(), 4);
}

#[test]
fn the_season_ends_only_after_its_cutoff_with_the_boards_standings() {
    let mut m = Members::new(2);
    m.earn(0, 1, ActivityKind::Comment, 30, 1);
    let board = Box::new(m.board(terms()));
    let early = decide_season(
        &scheduled(),
        SeasonCommand::End {
            board: board.clone(),
            at: minutes(69),
        },
    );
    assert_eq!(refused(early), DomainError::SeasonNotEnded);
    let ended = accepted(
        scheduled(),
        decide_season(
            &scheduled(),
            SeasonCommand::End {
                board: board.clone(),
                at: minutes(70),
            },
        ),
    );
    assert_eq!(ended.status, SeasonStatus::Ended);
    assert_eq!(ended.standings, board.standings());
    let cancel = decide_season(
        &ended,
        SeasonCommand::Cancel {
            reason: "too late".into(),
            by: manager(),
            at: minutes(80),
        },
    );
    assert_eq!(refused(cancel), DomainError::SeasonClosed);
}

#[test]
fn a_cancelled_season_needs_a_reason_counts_nothing_more_and_never_ends() {
    let no_reason = decide_season(
        &scheduled(),
        SeasonCommand::Cancel {
            reason: " ".into(),
            by: manager(),
            at: minutes(10),
        },
    );
    assert_eq!(refused(no_reason), DomainError::ReasonRequired);
    let cancelling = decide_season(
        &scheduled(),
        SeasonCommand::Cancel {
            reason: "wrong dates".into(),
            by: manager(),
            at: minutes(10),
        },
    )
    .expect("cancelled");
    let mut m = Members::new(1);
    m.earn(0, 1, ActivityKind::Comment, 30, 1);
    m.log.extend(cancelling.clone());
    m.earn(0, 2, ActivityKind::Comment, 30, 11);
    let board = m.board(terms());
    assert_eq!(score(&board, 0), 30);
    let cancelled = accepted(scheduled(), Ok(cancelling));
    let end = decide_season(
        &cancelled,
        SeasonCommand::End {
            board: Box::new(board),
            at: minutes(90),
        },
    );
    assert_eq!(refused(end), DomainError::SeasonClosed);
}

fn ended_with(standings: Vec<Standing>) -> SeasonState {
    SeasonState {
        status: SeasonStatus::Ended,
        standings,
        ..scheduled()
    }
}

#[test]
fn a_prize_is_paid_for_the_frozen_rank_and_withheld_from_a_blocked_member() {
    let winner = Standing {
        rank: 1,
        member_id: member(0),
        score: 30,
        prize: 100,
    };
    let unpaid = Standing {
        rank: 4,
        member_id: member(1),
        score: 5,
        prize: 0,
    };
    let season_state = ended_with(vec![winner, unpaid]);
    let prize_entry = EntryId(uuid::Uuid::from_u128(0x7000));
    let paid = decide_prize(
        &season_state,
        &registered(0),
        member(0),
        prize_entry,
        minutes(80),
    )
    .expect("paid");
    assert!(matches!(
        paid.as_slice(),
        [Event::SeasonPrizeAwarded {
            rank: 1,
            points: 100,
            ..
        }]
    ));
    let after = paid.iter().fold(registered(0), |s, e| s.evolve(e));
    assert_eq!(after.balance, 100);
    let none = decide_prize(
        &season_state,
        &registered(1),
        member(1),
        prize_entry,
        minutes(80),
    );
    assert_eq!(refused(none), DomainError::NotFound);
    let blocked = accepted(
        registered(0),
        registered(0).decide(MemberCommand::Block {
            reason: "spam".into(),
            by: manager(),
            at: minutes(75),
        }),
    );
    let refused_blocked =
        decide_prize(&season_state, &blocked, member(0), prize_entry, minutes(80));
    assert_eq!(
        refused(refused_blocked),
        DomainError::MemberBlocked(member(0))
    );
    let running = decide_prize(
        &scheduled(),
        &registered(0),
        member(0),
        prize_entry,
        minutes(80),
    );
    assert_eq!(refused(running), DomainError::SeasonNotEnded);
}
