//! The program decider: created once, rules validated and versioned.

use super::{accepted, refused};
use crate::common::*;
use domain::DomainError;
use domain::network::{ActivityKind, Network};
use domain::program::{PointsRule, ProgramCommand, ProgramState, Rules};

fn created() -> ProgramState {
    let create = ProgramCommand::Create {
        program_id: program(),
        name: "Coffee".into(),
        time_zone: chrono_tz::Europe::Moscow,
        at: t0(),
    };
    accepted(
        ProgramState::default(),
        ProgramState::default().decide(create),
    )
}

fn change(rules: Rules) -> ProgramCommand {
    ProgramCommand::ChangeRules {
        program_id: program(),
        rules,
        by: "admin".into(),
        at: t0(),
    }
}

fn comment_rule(points: i64) -> PointsRule {
    PointsRule {
        network: Network::Vk,
        kind: ActivityKind::Comment,
        points,
        cooldown_seconds: 0,
    }
}

#[test]
fn a_program_is_created_once() {
    let again = ProgramCommand::Create {
        program_id: program(),
        name: "Coffee".into(),
        time_zone: chrono_tz::UTC,
        at: t0(),
    };
    assert_eq!(refused(created().decide(again)), DomainError::AlreadyExists);
}

#[test]
fn rules_of_a_program_that_does_not_exist_are_not_found() {
    assert_eq!(
        refused(ProgramState::default().decide(change(Rules::standard()))),
        DomainError::NotFound
    );
}

#[test]
fn each_rules_change_gets_the_next_version() {
    let state = created();
    let once = accepted(state.clone(), state.decide(change(Rules::standard())));
    let twice = accepted(once.clone(), once.decide(change(Rules::standard())));
    assert_eq!((once.rules_version, twice.rules_version), (1, 2));
}

#[test]
fn invalid_rules_are_refused() {
    let invalid = [
        Rules {
            points: vec![comment_rule(0)],
            ..Rules::standard()
        },
        Rules {
            points: vec![comment_rule(-5)],
            ..Rules::standard()
        },
        Rules {
            points: vec![comment_rule(5), comment_rule(7)],
            ..Rules::standard()
        },
        Rules {
            daily_cap: Some(0),
            ..Rules::standard()
        },
        Rules {
            daily_cap_per_network: Some(-1),
            ..Rules::standard()
        },
    ];
    for rules in invalid {
        let decision = created().decide(change(rules.clone()));
        assert!(
            matches!(refused(decision), DomainError::InvalidRules(_)),
            "{rules:?}"
        );
    }
}
