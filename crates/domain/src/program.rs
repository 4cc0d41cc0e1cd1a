//! A program's rules: what each activity earns, caps and cooldowns. Changed only by events, so
//! every award can name the rule version that priced it.

use crate::error::DomainError;
use crate::event::{Event, ManagerId};
use crate::ids::ProgramId;
use crate::network::{ActivityKind, ExternalIdentity, Network};
use crate::text::RepeatedText;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Points for one (network, activity kind), with its cooldown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsRule {
    pub network: Network,
    pub kind: ActivityKind,
    pub points: i64,
    /// Minimum seconds between two awards of this kind to one member (0 = none).
    #[serde(default)]
    pub cooldown_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    pub points: Vec<PointsRule>,
    /// Most points one member may earn from activity in one local day (all networks).
    pub daily_cap: Option<i64>,
    /// Most points one member may earn from one network in one local day.
    pub daily_cap_per_network: Option<i64>,
    /// Comments shorter than this (in characters, trimmed) earn nothing.
    #[serde(default)]
    pub min_comment_chars: u32,
    /// A comment, mention or message whose normalised text (case, spacing, punctuation and
    /// Unicode forms aside) this member was already paid for earns nothing. On unless a manager
    /// turns it off; rules recorded before it existed read as on.
    #[serde(default = "yes")]
    pub refuse_repeated_text: bool,
    /// For how many days either side of a paid copy a text counts as a repeat; 0 = for ever.
    #[serde(default)]
    pub repeated_text_window_days: u32,
    /// A deleted comment takes its points back.
    #[serde(default = "yes")]
    pub reverse_on_delete: bool,
    /// Leaving the group or channel takes the subscription bonus back.
    #[serde(default = "yes")]
    pub reverse_on_leave: bool,
    /// The brand's own accounts: their activity never earns.
    #[serde(default)]
    pub own_accounts: Vec<ExternalIdentity>,
}

fn yes() -> bool {
    true
}

/// The longest repeated-text window a manager may set (ten years); longer is "for ever" (0).
pub const MAX_REPEATED_TEXT_WINDOW_DAYS: u32 = 3_650;

impl Rules {
    pub fn validate(&self) -> Result<(), DomainError> {
        for rule in &self.points {
            if rule.points <= 0 || rule.points > crate::points::MAX_POINTS_DELTA {
                return Err(DomainError::InvalidRules(format!(
                    "{} {}: points must be positive",
                    rule.network, rule.kind
                )));
            }
        }
        let mut keys: Vec<_> = self.points.iter().map(|r| (r.network, r.kind)).collect();
        keys.sort();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            return Err(DomainError::InvalidRules(
                "one rule per network and kind".into(),
            ));
        }
        if self.daily_cap.is_some_and(|c| c <= 0)
            || self.daily_cap_per_network.is_some_and(|c| c <= 0)
        {
            return Err(DomainError::InvalidRules("caps must be positive".into()));
        }
        if self.repeated_text_window_days > MAX_REPEATED_TEXT_WINDOW_DAYS {
            return Err(DomainError::InvalidRules(format!(
                "repeated_text_window_days: at most {MAX_REPEATED_TEXT_WINDOW_DAYS} (0 = for ever)"
            )));
        }
        Ok(())
    }

    /// How these rules treat written activity whose text the member was already paid for.
    pub fn repeated_text(&self) -> RepeatedText {
        match (self.refuse_repeated_text, self.repeated_text_window_days) {
            (false, _) => RepeatedText::Earns,
            (true, 0) => RepeatedText::EarnsOnce,
            (true, days) => RepeatedText::EarnsOnceWithin { days },
        }
    }

    pub fn rule_for(&self, network: Network, kind: ActivityKind) -> Option<&PointsRule> {
        self.points
            .iter()
            .find(|r| r.network == network && r.kind == kind)
    }

    pub fn is_own_account(&self, identity: &ExternalIdentity) -> bool {
        self.own_accounts.contains(identity)
    }

    /// Sensible defaults for a new program.
    pub fn standard() -> Self {
        use ActivityKind::*;
        let mut points = Vec::new();
        for network in Network::ALL {
            for (kind, pts, cooldown) in [
                (Comment, 10, 60),
                (Mention, 15, 60),
                (Reaction, 2, 0),
                (PollVote, 5, 0),
                (Repost, 20, 0),
                (Subscription, 50, 0),
            ] {
                points.push(PointsRule {
                    network,
                    kind,
                    points: pts,
                    cooldown_seconds: cooldown,
                });
            }
        }
        Rules {
            points,
            daily_cap: Some(500),
            daily_cap_per_network: Some(300),
            min_comment_chars: 3,
            refuse_repeated_text: true,
            repeated_text_window_days: 0,
            reverse_on_delete: true,
            reverse_on_leave: true,
            own_accounts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgramState {
    pub created: bool,
    pub name: String,
    pub time_zone: Option<chrono_tz::Tz>,
    pub rules: Option<Rules>,
    pub rules_version: u32,
}

pub enum ProgramCommand {
    Create {
        program_id: ProgramId,
        name: String,
        time_zone: chrono_tz::Tz,
        at: Timestamp,
    },
    ChangeRules {
        program_id: ProgramId,
        rules: Rules,
        by: ManagerId,
        at: Timestamp,
    },
}

impl ProgramState {
    pub fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::ProgramCreated {
                name, time_zone, ..
            } => {
                self.created = true;
                self.name = name.clone();
                self.time_zone = Some(*time_zone);
            }
            Event::RulesChanged { version, rules, .. } => {
                self.rules_version = *version;
                self.rules = Some(rules.clone());
            }
            _ => {}
        }
        self
    }

    pub fn decide(&self, command: ProgramCommand) -> Result<Vec<Event>, DomainError> {
        match command {
            ProgramCommand::Create {
                program_id,
                name,
                time_zone,
                at,
            } => {
                if self.created {
                    return Err(DomainError::AlreadyExists);
                }
                Ok(vec![Event::ProgramCreated {
                    program_id,
                    name,
                    time_zone,
                    at,
                }])
            }
            ProgramCommand::ChangeRules {
                program_id,
                rules,
                by,
                at,
            } => {
                if !self.created {
                    return Err(DomainError::NotFound);
                }
                rules.validate()?;
                let version = self.rules_version + 1;
                Ok(vec![Event::RulesChanged {
                    program_id,
                    version,
                    rules,
                    by,
                    at,
                }])
            }
        }
    }
}
