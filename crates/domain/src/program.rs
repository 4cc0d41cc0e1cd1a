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
    /// The network the rule applies on.
    pub network: Network,
    /// The activity it prices.
    pub kind: ActivityKind,
    /// Points per activity; positive.
    pub points: i64,
    /// Minimum seconds between two awards of this kind to one member (0 = none).
    #[serde(default)]
    pub cooldown_seconds: u32,
}

/// How a program pays for activity. Validated before a `RulesChanged` is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    /// One rule per (network, kind) that earns; activity without a rule earns nothing.
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
    /// Days an account given up by one member stays closed to every other member (0 = none;
    /// rules recorded before it existed read as 0). A manager's link is not held by it.
    #[serde(default)]
    pub relink_cooldown_days: u32,
    /// Which awards wait for a manager's approval (all off unless set).
    #[serde(default)]
    pub review: crate::review::ReviewRules,
    /// The tier ladder (none unless set; rules recorded before tiers existed have none).
    #[serde(default, skip_serializing_if = "crate::tier::TierRules::is_unset")]
    pub tiers: crate::tier::TierRules,
    /// When points expire (never unless set; rules recorded before expiry existed never expire).
    #[serde(default, skip_serializing_if = "crate::expiry::ExpiryRules::is_unset")]
    pub expiry: crate::expiry::ExpiryRules,
}

fn yes() -> bool {
    true
}

/// The longest repeated-text window a manager may set (ten years); longer is "for ever" (0).
pub const MAX_REPEATED_TEXT_WINDOW_DAYS: u32 = 3_650;

/// The longest relink cooldown a manager may set (a year).
pub const MAX_RELINK_COOLDOWN_DAYS: u32 = 365;

impl Rules {
    /// Refuses rules a manager may not set: points outside `1..=MAX_POINTS_DELTA`, two rules for
    /// one network and kind, caps below 1, a repeated-text window past
    /// [`MAX_REPEATED_TEXT_WINDOW_DAYS`], a relink cooldown past [`MAX_RELINK_COOLDOWN_DAYS`].
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
        if self.relink_cooldown_days > MAX_RELINK_COOLDOWN_DAYS {
            return Err(DomainError::InvalidRules(format!(
                "relink_cooldown_days: at most {MAX_RELINK_COOLDOWN_DAYS}"
            )));
        }
        self.review.validate()?;
        self.tiers.validate()?;
        self.expiry.validate()?;
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

    /// The rule pricing `kind` on `network`; `None` when that activity earns nothing.
    pub fn rule_for(&self, network: Network, kind: ActivityKind) -> Option<&PointsRule> {
        self.points
            .iter()
            .find(|r| r.network == network && r.kind == kind)
    }

    /// Whether `identity` is one of the brand's own accounts (whose activity never earns).
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
            relink_cooldown_days: 7,
            review: crate::review::ReviewRules::default(),
            tiers: crate::tier::TierRules::default(),
            expiry: crate::expiry::ExpiryRules::default(),
        }
    }

    /// The relink cooldown these rules set.
    pub fn relink_cooldown(&self) -> crate::identity::RelinkCooldown {
        crate::identity::RelinkCooldown::days(self.relink_cooldown_days)
    }
}

/// Everything a decision about one program needs, folded from its stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgramState {
    /// The program exists.
    pub created: bool,
    /// Its display name.
    pub name: String,
    /// Where its days start; `None` until created.
    pub time_zone: Option<chrono_tz::Tz>,
    /// The rules in force; `None` until first set.
    pub rules: Option<Rules>,
    /// The version of the rules in force; 0 before the first.
    pub rules_version: u32,
}

/// What a manager can ask of a program stream.
pub enum ProgramCommand {
    /// Start the program's stream.
    Create {
        /// The new program's id.
        program_id: ProgramId,
        /// Its display name.
        name: String,
        /// Where its days start and end, for daily caps and statistics.
        time_zone: chrono_tz::Tz,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// Replace the rules; the new version is one more than the last.
    ChangeRules {
        /// The program changed.
        program_id: ProgramId,
        /// The new rules in full.
        rules: Rules,
        /// The manager changing them.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
}

impl ProgramState {
    /// The state after `event`; events of other streams leave it as it is.
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

    /// The events `command` produces from this state, or why the rules refuse it.
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
