//! Strategies for every event variant with arbitrary field values: any ids, any Unicode text,
//! any integers, any instant from 1970 to 2200 and any time zone.

use chrono::{DateTime, Utc};
use domain::Event;
use domain::Timestamp;
use domain::codeword::Codeword;
use domain::event::{Eraser, ErasureReason, LinkMethod, ReversalReason};
use domain::expiry::ExpiryRules;
use domain::ids::{
    AccountRef, CampaignId, EntryId, MemberId, ProgramId, RaffleId, RedemptionId, RewardId,
    SeasonId,
};
use domain::network::{ActivityKind, ActivityRef, ExternalIdentity, LinkedAccount, Network};
use domain::program::{PointsRule, Rules};
use domain::raffle::{ActivityRule, EntryRule};
use domain::review::{HoldReason, Rejection, ReviewRules};
use domain::season::{SeasonCounts, SeasonPrize, SeasonTerms, Standing};
use domain::text::TextFingerprint;
use domain::tier::{TierLevel, TierRules};
use proptest::prelude::*;
use proptest::sample::select;
use uuid::Uuid;

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

fn member_id() -> impl Strategy<Value = MemberId> {
    uuid().prop_map(MemberId)
}

fn entry_id() -> impl Strategy<Value = EntryId> {
    uuid().prop_map(EntryId)
}

fn program_id() -> impl Strategy<Value = ProgramId> {
    uuid().prop_map(ProgramId)
}

fn campaign_id() -> impl Strategy<Value = CampaignId> {
    uuid().prop_map(CampaignId)
}

fn reward_id() -> impl Strategy<Value = RewardId> {
    uuid().prop_map(RewardId)
}

fn redemption_id() -> impl Strategy<Value = RedemptionId> {
    uuid().prop_map(RedemptionId)
}

/// Any instant from 1970 to 2200, to the nanosecond, as the ledger holds it.
pub fn nanosecond_instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..7_258_118_400, 0u32..1_000_000_000)
        .prop_map(|(secs, nanos)| DateTime::from_timestamp(secs, nanos).expect("in range"))
}

fn instant() -> impl Strategy<Value = Timestamp> {
    nanosecond_instant().prop_map(Timestamp::new)
}

fn text() -> impl Strategy<Value = String> {
    any::<String>()
}

fn network() -> impl Strategy<Value = Network> {
    select(Network::ALL.to_vec())
}

fn entry_rule() -> impl Strategy<Value = EntryRule> {
    prop_oneof![
        Just(EntryRule::Tickets),
        (
            prop::option::of(select(ActivityKind::ALL.to_vec())),
            prop::option::of(network()),
            instant()
        )
            .prop_map(|(kind, network, from)| EntryRule::Activity(ActivityRule {
                kind,
                network,
                from
            })),
    ]
}

fn identity() -> impl Strategy<Value = ExternalIdentity> {
    (network(), text(), text()).prop_map(|(network, scope, external_id)| ExternalIdentity {
        network,
        scope,
        external_id,
    })
}

fn account() -> impl Strategy<Value = LinkedAccount> {
    (network(), uuid()).prop_map(|(network, id)| LinkedAccount {
        network,
        account: AccountRef(id),
    })
}

fn activity() -> impl Strategy<Value = ActivityRef> {
    (network(), select(ActivityKind::ALL.to_vec()), text()).prop_map(
        |(network, kind, reference)| ActivityRef {
            network,
            kind,
            reference,
        },
    )
}

fn rules() -> impl Strategy<Value = Rules> {
    let rule = (
        network(),
        select(ActivityKind::ALL.to_vec()),
        any::<i64>(),
        any::<u32>(),
    )
        .prop_map(|(network, kind, points, cooldown_seconds)| PointsRule {
            network,
            kind,
            points,
            cooldown_seconds,
        });
    let flags = (
        any::<u32>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<u32>(),
        any::<u32>(),
    );
    (
        prop::collection::vec(rule, 0..4),
        any::<Option<i64>>(),
        any::<Option<i64>>(),
        flags,
        prop::collection::vec(identity(), 0..3),
        review_rules(),
        (tier_rules(), any::<(u32, u32)>()),
    )
        .prop_map(
            |(
                points,
                daily_cap,
                daily_cap_per_network,
                flags,
                own_accounts,
                review,
                (tiers, (after_days, warn_days)),
            )| {
                Rules {
                    points,
                    daily_cap,
                    daily_cap_per_network,
                    min_comment_chars: flags.0,
                    reverse_on_delete: flags.1,
                    reverse_on_leave: flags.2,
                    refuse_repeated_text: flags.3,
                    repeated_text_window_days: flags.4,
                    relink_cooldown_days: flags.5,
                    own_accounts,
                    review,
                    tiers,
                    expiry: ExpiryRules {
                        after_days,
                        warn_days,
                    },
                }
            },
        )
}

fn tier_rules() -> impl Strategy<Value = TierRules> {
    let level =
        (text(), any::<i64>(), any::<u32>()).prop_map(|(name, threshold, multiplier_percent)| {
            TierLevel {
                name,
                threshold,
                multiplier_percent,
            }
        });
    (any::<u32>(), prop::collection::vec(level, 0..3)).prop_map(|(window_days, levels)| TierRules {
        window_days,
        levels,
    })
}

fn expiry_event() -> impl Strategy<Value = Event> {
    let numbers = (any::<i64>(), any::<u32>());
    (
        member_id(),
        entry_id(),
        entry_id(),
        instant(),
        numbers,
        instant(),
    )
        .prop_map(
            |(member_id, entry_id, lot_entry_id, earned_at, (points, rule_version), at)| {
                Event::PointsExpired {
                    member_id,
                    entry_id,
                    lot_entry_id,
                    earned_at,
                    points,
                    rule_version,
                    at,
                }
            },
        )
}

fn warning_event() -> impl Strategy<Value = Event> {
    let numbers = (any::<i64>(), any::<u32>());
    (member_id(), instant(), instant(), numbers, instant()).prop_map(
        |(member_id, first_expires_at, through, (points, rule_version), at)| Event::ExpiryWarned {
            member_id,
            points,
            first_expires_at,
            through,
            rule_version,
            at,
        },
    )
}

fn tier_event() -> impl Strategy<Value = Event> {
    let names = (any::<Option<String>>(), any::<Option<String>>());
    let numbers = (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<i64>(),
        any::<u32>(),
    );
    (member_id(), names, numbers, instant()).prop_map(
        |(
            member_id,
            (from, to),
            (from_level, level, multiplier_percent, qualifying_points, rule_version),
            at,
        )| {
            Event::TierChanged {
                member_id,
                from,
                from_level,
                to,
                level,
                multiplier_percent,
                qualifying_points,
                rule_version,
                at,
            }
        },
    )
}

fn review_rules() -> impl Strategy<Value = ReviewRules> {
    (
        any::<Option<u32>>(),
        any::<Option<u32>>(),
        any::<Option<i64>>(),
        any::<u32>(),
    )
        .prop_map(
            |(per_minute, per_hour, codeword_over, new_member_hours)| ReviewRules {
                per_minute,
                per_hour,
                codeword_over,
                new_member_hours,
            },
        )
}

fn held_event() -> impl Strategy<Value = Event> {
    let hold = select(vec![
        HoldReason::VelocityMinute,
        HoldReason::VelocityHour,
        HoldReason::LargeCodeword,
        HoldReason::NewMember,
    ]);
    let rejection = prop_oneof![
        (text(), text()).prop_map(|(by, reason)| Rejection::Manager { by, reason }),
        select(vec![
            ReversalReason::Deleted,
            ReversalReason::Withdrawn,
            ReversalReason::Left,
        ])
        .prop_map(|cause| Rejection::ActivityUndone { cause }),
    ];
    let held = (
        (
            member_id(),
            entry_id(),
            activity(),
            any::<i64>(),
            any::<u32>(),
        ),
        proptest::option::of(campaign_id()),
        (instant(), instant()),
        proptest::option::of(any::<u64>().prop_map(TextFingerprint)),
        hold,
    )
        .prop_map(
            |(
                (member_id, entry_id, activity, points, rule_version),
                campaign_id,
                (occurred_at, at),
                text_fingerprint,
                hold,
            )| Event::AwardHeld {
                member_id,
                entry_id,
                activity,
                points,
                rule_version,
                campaign_id,
                occurred_at,
                at,
                text_fingerprint,
                hold,
            },
        );
    let approved = (
        (member_id(), entry_id(), activity(), instant()),
        any::<i64>(),
        text(),
        instant(),
    )
        .prop_map(
            |((member_id, award_entry_id, activity, award_occurred_at), points, by, at)| {
                Event::HeldAwardApproved {
                    member_id,
                    award_entry_id,
                    activity,
                    award_occurred_at,
                    points,
                    by,
                    at,
                }
            },
        );
    let rejected = (member_id(), entry_id(), any::<i64>(), rejection, instant()).prop_map(
        |(member_id, award_entry_id, points, rejection, at)| Event::HeldAwardRejected {
            member_id,
            award_entry_id,
            points,
            rejection,
            at,
        },
    );
    prop_oneof![held, approved, rejected]
}

fn program_event() -> impl Strategy<Value = Event> {
    let time_zone = select(chrono_tz::TZ_VARIANTS.to_vec());
    prop_oneof![
        (program_id(), text(), time_zone, instant()).prop_map(
            |(program_id, name, time_zone, at)| {
                Event::ProgramCreated {
                    program_id,
                    name,
                    time_zone,
                    at,
                }
            }
        ),
        (program_id(), any::<u32>(), rules(), text(), instant()).prop_map(
            |(program_id, version, rules, by, at)| Event::RulesChanged {
                program_id,
                version,
                rules,
                by,
                at
            }
        ),
    ]
}

fn membership_event() -> impl Strategy<Value = Event> {
    let method = select(vec![
        LinkMethod::Telegram,
        LinkMethod::Code,
        LinkMethod::OAuth,
        LinkMethod::Manager,
        LinkMethod::Observed,
    ]);
    prop_oneof![
        (member_id(), program_id(), instant()).prop_map(|(member_id, program_id, at)| {
            Event::MemberRegistered {
                member_id,
                program_id,
                at,
            }
        }),
        (
            member_id(),
            account(),
            method,
            instant(),
            proptest::option::of(text())
        )
            .prop_map(|(member_id, identity, method, at, reason)| {
                Event::AccountLinked {
                    member_id,
                    account: identity,
                    method,
                    at,
                    reason,
                }
            }),
        (
            member_id(),
            account(),
            instant(),
            proptest::option::of(text())
        )
            .prop_map(|(member_id, identity, at, reason)| Event::AccountUnlinked {
                member_id,
                account: identity,
                at,
                reason,
            }),
        (member_id(), text(), text(), instant()).prop_map(|(member_id, reason, by, at)| {
            Event::MemberBlocked {
                member_id,
                reason,
                by,
                at,
            }
        }),
        (member_id(), text(), instant()).prop_map(|(member_id, by, at)| Event::MemberUnblocked {
            member_id,
            by,
            at
        }),
        (
            member_id(),
            proptest::option::of(text()),
            select(ErasureReason::ALL.to_vec()),
            instant()
        )
            .prop_map(|(member_id, by, reason, at)| Event::MemberErased {
                member_id,
                by: by.map_or(Eraser::Member, |by| Eraser::Manager { by }),
                reason,
                at
            }),
        (program_id(), account(), member_id(), instant()).prop_map(
            |(program_id, identity, member_id, at)| Event::IdentityClaimed {
                program_id,
                account: identity,
                member_id,
                at
            }
        ),
        (program_id(), account(), member_id(), instant()).prop_map(
            |(program_id, identity, member_id, at)| Event::IdentityReleased {
                program_id,
                account: identity,
                member_id,
                at
            }
        ),
    ]
}

fn points_event() -> impl Strategy<Value = Event> {
    let reason = select(vec![
        ReversalReason::Deleted,
        ReversalReason::Withdrawn,
        ReversalReason::Left,
    ]);
    let award = (
        member_id(),
        entry_id(),
        activity(),
        any::<i64>(),
        any::<u32>(),
    );
    let corrected = || {
        (
            member_id(),
            entry_id(),
            entry_id(),
            network(),
            instant(),
            any::<i64>(),
        )
    };
    prop_oneof![
        (
            award,
            proptest::option::of(campaign_id()),
            instant(),
            instant(),
            proptest::option::of(any::<u64>().prop_map(TextFingerprint)),
        )
            .prop_map(
                |(
                    (member_id, entry_id, activity, points, rule_version),
                    campaign_id,
                    occurred_at,
                    at,
                    text_fingerprint,
                )| {
                    Event::PointsAwarded {
                        member_id,
                        entry_id,
                        activity,
                        points,
                        rule_version,
                        campaign_id,
                        occurred_at,
                        at,
                        text_fingerprint,
                    }
                }
            ),
        (corrected(), reason, instant()).prop_map(
            |(
                (member_id, entry_id, award_entry_id, network, award_occurred_at, points),
                reason,
                at,
            )| {
                Event::PointsReversed {
                    member_id,
                    entry_id,
                    award_entry_id,
                    network,
                    award_occurred_at,
                    points,
                    reason,
                    at,
                }
            }
        ),
        (corrected(), instant()).prop_map(
            |((member_id, entry_id, award_entry_id, network, award_occurred_at, points), at)| {
                Event::AwardRestored {
                    member_id,
                    entry_id,
                    award_entry_id,
                    network,
                    award_occurred_at,
                    points,
                    at,
                }
            }
        ),
        (
            member_id(),
            entry_id(),
            any::<i64>(),
            text(),
            proptest::option::of(text()),
            text(),
            proptest::option::of(entry_id()),
            instant()
        )
            .prop_map(
                |(member_id, entry_id, delta, reason, note, by, compensates, at)| {
                    Event::PointsAdjusted {
                        member_id,
                        entry_id,
                        delta,
                        reason,
                        note,
                        by,
                        compensates,
                        at,
                    }
                }
            ),
        (
            member_id(),
            entry_id(),
            member_id(),
            account(),
            any::<i64>(),
            instant(),
            any::<bool>(),
            proptest::collection::vec((any::<u64>().prop_map(TextFingerprint), instant()), 0..3),
        )
            .prop_map(
                |(member_id, entry_id, other, identity, points, at, out, paid_texts)| {
                    if out {
                        Event::PointsMovedOut {
                            member_id,
                            entry_id,
                            to_member: other,
                            account: identity,
                            points,
                            at,
                        }
                    } else {
                        Event::PointsMovedIn {
                            member_id,
                            entry_id,
                            from_member: other,
                            account: identity,
                            points,
                            at,
                            paid_texts,
                        }
                    }
                }
            ),
    ]
}

fn reward_event() -> impl Strategy<Value = Event> {
    let redeemed = || {
        (
            member_id(),
            entry_id(),
            redemption_id(),
            reward_id(),
            any::<i64>(),
        )
    };
    prop_oneof![
        (redeemed(), text(), instant()).prop_map(
            |((member_id, entry_id, redemption_id, reward_id, cost), coupon_code, at)| {
                Event::RewardRedeemed {
                    member_id,
                    entry_id,
                    redemption_id,
                    reward_id,
                    cost,
                    coupon_code,
                    at,
                }
            }
        ),
        (redeemed(), text(), text(), instant()).prop_map(
            |((member_id, entry_id, redemption_id, reward_id, refund), by, reason, at)| {
                Event::RedemptionCancelled {
                    member_id,
                    entry_id,
                    redemption_id,
                    reward_id,
                    refund,
                    by,
                    reason,
                    at,
                }
            }
        ),
        (
            (
                reward_id(),
                program_id(),
                text(),
                any::<i64>(),
                any::<u32>()
            ),
            (text(), instant()),
            (
                any::<bool>(),
                any::<bool>(),
                proptest::option::of(any::<u32>())
            ),
        )
            .prop_map(
                |(
                    (reward_id, program_id, title, cost, stock),
                    (by, at),
                    (coupon_pool, return_codes, low_stock_alert),
                )| {
                    Event::RewardListed {
                        reward_id,
                        program_id,
                        title,
                        cost,
                        stock,
                        by,
                        at,
                        coupon_pool,
                        return_codes,
                        low_stock_alert,
                    }
                }
            ),
        (reward_id(), any::<i32>(), text(), instant()).prop_map(|(reward_id, delta, by, at)| {
            Event::RewardStockChanged {
                reward_id,
                delta,
                by,
                at,
            }
        }),
        (reward_id(), text(), instant()).prop_map(|(reward_id, by, at)| Event::RewardDelisted {
            reward_id,
            by,
            at
        }),
        (
            reward_id(),
            redemption_id(),
            member_id(),
            instant(),
            proptest::option::of(text())
        )
            .prop_map(|(reward_id, redemption_id, member_id, at, code)| {
                Event::RewardIssued {
                    reward_id,
                    redemption_id,
                    member_id,
                    at,
                    code,
                }
            }),
        (
            reward_id(),
            redemption_id(),
            instant(),
            proptest::option::of(text())
        )
            .prop_map(|(reward_id, redemption_id, at, code)| {
                Event::RewardReturned {
                    reward_id,
                    redemption_id,
                    at,
                    code,
                }
            }),
        (
            reward_id(),
            prop::collection::vec(text(), 0..4),
            text(),
            instant()
        )
            .prop_map(|(reward_id, codes, by, at)| Event::RewardCodesAdded {
                reward_id,
                codes,
                by,
                at,
            }),
        (reward_id(), any::<i64>(), any::<u32>(), instant()).prop_map(
            |(reward_id, stock, threshold, at)| Event::RewardStockLow {
                reward_id,
                stock,
                threshold,
                at,
            }
        ),
        (member_id(), redemption_id(), reward_id(), text(), instant()).prop_map(
            |(member_id, redemption_id, reward_id, by, at)| {
                Event::CouponUsed {
                    member_id,
                    redemption_id,
                    reward_id,
                    by,
                    at,
                }
            }
        ),
    ]
}

fn campaign_event() -> impl Strategy<Value = Event> {
    let codeword = (text(), text()).prop_map(|(display, skeleton)| Codeword { display, skeleton });
    let window = (instant(), instant(), proptest::option::of(any::<u32>()));
    let reach = (
        prop::collection::vec(network(), 0..4),
        proptest::option::of(text()),
    );
    prop_oneof![
        (
            campaign_id(),
            program_id(),
            text(),
            codeword,
            any::<i64>(),
            window,
            reach,
            text(),
            instant()
        )
            .prop_map(
                |(campaign_id, program_id, name, codeword, points, window, reach, by, at)| {
                    let ((starts_at, ends_at, total_cap), (networks, target_post)) =
                        (window, reach);
                    Event::CampaignCreated {
                        campaign_id,
                        program_id,
                        codeword,
                        points,
                        starts_at,
                        ends_at,
                        total_cap,
                        networks,
                        target_post,
                        // Both shapes: with a description and without (older events).
                        description: Some(name.clone()).filter(|n| n.len() % 2 == 0),
                        name,
                        by,
                        at,
                    }
                }
            ),
        (campaign_id(), text(), instant()).prop_map(|(campaign_id, by, at)| {
            Event::CampaignPaused {
                campaign_id,
                by,
                at,
            }
        }),
        (campaign_id(), text(), instant()).prop_map(|(campaign_id, by, at)| {
            Event::CampaignResumed {
                campaign_id,
                by,
                at,
            }
        }),
        (campaign_id(), text(), instant()).prop_map(|(campaign_id, by, at)| Event::CampaignEnded {
            campaign_id,
            by,
            at
        }),
        (
            campaign_id(),
            member_id(),
            entry_id(),
            network(),
            text(),
            any::<i64>(),
            instant()
        )
            .prop_map(
                |(campaign_id, member_id, entry_id, network, reference, points, at)| {
                    Event::CodewordRedeemed {
                        campaign_id,
                        member_id,
                        entry_id,
                        network,
                        reference,
                        points,
                        at,
                    }
                }
            ),
    ]
}

/// Every variant, each group weighted by its size so each variant is about equally likely.
fn raffle_id() -> impl Strategy<Value = RaffleId> {
    uuid().prop_map(RaffleId)
}

fn raffle_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (
            (raffle_id(), program_id(), text(), text(), any::<i64>()),
            (
                any::<u32>(),
                any::<u32>(),
                instant(),
                text(),
                text(),
                instant()
            ),
            entry_rule(),
        )
            .prop_map(
                |(
                    (raffle_id, program_id, title, prize, ticket_cost),
                    (max_tickets_per_member, winners, ends_at, commitment, by, at),
                    entry_rule,
                )| Event::RaffleOpened {
                    raffle_id,
                    program_id,
                    title,
                    prize,
                    ticket_cost,
                    max_tickets_per_member,
                    winners,
                    ends_at,
                    commitment,
                    by,
                    at,
                    entry_rule,
                }
            ),
        (raffle_id(), entry_id(), member_id(), instant()).prop_map(
            |(raffle_id, entry_id, member_id, at)| Event::RaffleEntered {
                raffle_id,
                entry_id,
                member_id,
                at,
            }
        ),
        (
            raffle_id(),
            text(),
            prop::collection::vec(entry_id(), 0..4),
            text(),
            instant()
        )
            .prop_map(|(raffle_id, seed, winning_tickets, by, at)| {
                Event::RaffleDrawn {
                    raffle_id,
                    seed,
                    winning_tickets,
                    by,
                    at,
                }
            }),
        (raffle_id(), text(), text(), instant()).prop_map(|(raffle_id, reason, by, at)| {
            Event::RaffleCancelled {
                raffle_id,
                reason,
                by,
                at,
            }
        }),
        (
            member_id(),
            entry_id(),
            raffle_id(),
            any::<i64>(),
            instant()
        )
            .prop_map(|(member_id, entry_id, raffle_id, cost, at)| {
                Event::RaffleTicketBought {
                    member_id,
                    entry_id,
                    raffle_id,
                    cost,
                    at,
                }
            }),
        (
            (member_id(), entry_id(), raffle_id()),
            (entry_id(), any::<i64>(), instant())
        )
            .prop_map(|((member_id, entry_id, raffle_id), (ticket, refund, at))| {
                Event::RaffleTicketRefunded {
                    member_id,
                    entry_id,
                    raffle_id,
                    ticket,
                    refund,
                    at,
                }
            }),
    ]
}

fn season_id() -> impl Strategy<Value = SeasonId> {
    uuid().prop_map(SeasonId)
}

fn season_terms() -> impl Strategy<Value = SeasonTerms> {
    let prize =
        (any::<u32>(), any::<u32>(), any::<i64>()).prop_map(|(from_rank, to_rank, points)| {
            SeasonPrize {
                from_rank,
                to_rank,
                points,
            }
        });
    let kinds = prop::sample::subsequence(ActivityKind::ALL.to_vec(), 0..=ActivityKind::ALL.len());
    (
        text(),
        (instant(), instant()),
        any::<u32>(),
        (kinds, any::<bool>()),
        prop::collection::vec(prize, 0..3),
    )
        .prop_map(
            |(name, (starts_at, ends_at), settle_minutes, (activities, adjustments), prizes)| {
                SeasonTerms {
                    name,
                    starts_at,
                    ends_at,
                    settle_minutes,
                    counts: SeasonCounts {
                        activities,
                        adjustments,
                    },
                    prizes,
                }
            },
        )
}

fn season_event() -> impl Strategy<Value = Event> {
    let standing = (any::<u32>(), member_id(), any::<i64>(), any::<i64>()).prop_map(
        |(rank, member_id, score, prize)| Standing {
            rank,
            member_id,
            score,
            prize,
        },
    );
    prop_oneof![
        (season_id(), program_id(), season_terms(), text(), instant()).prop_map(
            |(season_id, program_id, terms, by, at)| Event::SeasonScheduled {
                season_id,
                program_id,
                terms,
                by,
                at,
            }
        ),
        (season_id(), text(), text(), instant()).prop_map(|(season_id, reason, by, at)| {
            Event::SeasonCancelled {
                season_id,
                reason,
                by,
                at,
            }
        }),
        (
            season_id(),
            prop::collection::vec(standing, 0..4),
            any::<u32>(),
            instant()
        )
            .prop_map(
                |(season_id, standings, participants, at)| Event::SeasonEnded {
                    season_id,
                    standings,
                    participants,
                    at,
                }
            ),
        (
            season_id(),
            any::<u32>(),
            prop::collection::vec(member_id(), 0..3),
            instant()
        )
            .prop_map(|(season_id, paid, withheld, at)| Event::SeasonSettled {
                season_id,
                paid,
                withheld,
                at,
            }),
        (
            member_id(),
            entry_id(),
            season_id(),
            (any::<u32>(), any::<i64>()),
            instant()
        )
            .prop_map(|(member_id, entry_id, season_id, (rank, points), at)| {
                Event::SeasonPrizeAwarded {
                    member_id,
                    entry_id,
                    season_id,
                    rank,
                    points,
                    at,
                }
            }),
    ]
}

pub fn any_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        2 => program_event(),
        7 => membership_event(),
        4 => points_event(),
        2 => held_event(),
        1 => tier_event(),
        1 => expiry_event(),
        1 => warning_event(),
        7 => reward_event(),
        5 => campaign_event(),
        5 => raffle_event(),
        5 => season_event(),
    ]
}
