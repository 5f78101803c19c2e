//! A solution's lifecycle, without storage: which step may follow which,
//! and what the design and configurator work tracks must show first.
//!
//! DRAFT → SUBMITTED → APPROVED → VERIFIED → DESIGNING → LISTING →
//! CONFIGURATOR_DEVELOPMENT → PUBLISHED; SUBMITTED → REJECTED → SUBMITTED.
//! Entering DESIGNING opens both tracks (the vendor shows configurator
//! development under way while the design is); design may change only
//! while DESIGNING and must be done to leave it; the configurator may
//! change until publication and must be done to publish.

use partner_api::pricing::v1 as pb;
use partner_kernel::state_enum;

use crate::error::PricingError;

state_enum!(
    /// Where a solution is in its lifecycle.
    State, "solution state", SolutionState {
        Draft = "DRAFT",
        Submitted = "SUBMITTED",
        Approved = "APPROVED",
        Verified = "VERIFIED",
        Designing = "DESIGNING",
        Listing = "LISTING",
        ConfiguratorDevelopment = "CONFIGURATOR_DEVELOPMENT",
        Published = "PUBLISHED",
        Rejected = "REJECTED",
    }
);

state_enum!(
    /// A work track's progress.
    Progress, "work progress", WorkProgress {
        NotStarted = "NOT_STARTED",
        InProgress = "IN_PROGRESS",
        Done = "DONE",
    }
);

state_enum!(
    /// A work track.
    Track, "work track", WorkTrack {
        Design = "DESIGN",
        Configurator = "CONFIGURATOR",
    }
);

state_enum!(
    /// How a solution came to be.
    Origin, "solution origin", SolutionOrigin {
        Partner = "PARTNER",
        Baseline = "BASELINE",
    }
);

/// The parts of a solution the lifecycle rules read and change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub state: State,
    pub design: Progress,
    pub configurator: Progress,
}

impl Stage {
    /// A new draft.
    pub const DRAFT: Stage = Stage {
        state: State::Draft,
        design: Progress::NotStarted,
        configurator: Progress::NotStarted,
    };

    /// A registered baseline solution: published, its work done.
    pub const BASELINE: Stage = Stage {
        state: State::Published,
        design: Progress::Done,
        configurator: Progress::Done,
    };

    /// Whether its partner may still edit it.
    pub fn editable(self) -> bool {
        matches!(self.state, State::Draft | State::Rejected)
    }

    fn illegal(self, to: State) -> PricingError {
        PricingError::IllegalTransition {
            from: self.state.as_str(),
            to: to.as_str(),
        }
    }

    /// The partner submits a draft, or a rejected solution again.
    pub fn submit(self) -> Result<Stage, PricingError> {
        if !self.editable() {
            return Err(self.illegal(State::Submitted));
        }
        Ok(Stage {
            state: State::Submitted,
            ..self
        })
    }

    /// The operator moves the solution to `to`.
    pub fn advance(self, to: State) -> Result<Stage, PricingError> {
        let next = Stage { state: to, ..self };
        match (self.state, to) {
            (State::Submitted, State::Approved | State::Rejected)
            | (State::Approved, State::Verified)
            | (State::Listing, State::ConfiguratorDevelopment) => Ok(next),
            (State::Verified, State::Designing) => Ok(Stage {
                design: Progress::InProgress,
                configurator: Progress::InProgress,
                ..next
            }),
            (State::Designing, State::Listing) => {
                done(self.design, Track::Design)?;
                Ok(next)
            }
            (State::ConfiguratorDevelopment, State::Published) => {
                done(self.configurator, Track::Configurator)?;
                Ok(next)
            }
            _ => Err(self.illegal(to)),
        }
    }

    /// The operator records a track's progress.
    pub fn set_work(self, track: Track, progress: Progress) -> Result<Stage, PricingError> {
        let open = match track {
            Track::Design => self.state == State::Designing,
            Track::Configurator => matches!(
                self.state,
                State::Designing | State::Listing | State::ConfiguratorDevelopment
            ),
        };
        if !open || progress == Progress::NotStarted {
            return Err(PricingError::WorkTrackClosed {
                track: track.as_str(),
                state: self.state.as_str(),
            });
        }
        Ok(match track {
            Track::Design => Stage {
                design: progress,
                ..self
            },
            Track::Configurator => Stage {
                configurator: progress,
                ..self
            },
        })
    }
}

fn done(progress: Progress, track: Track) -> Result<(), PricingError> {
    if progress == Progress::Done {
        Ok(())
    } else {
        Err(PricingError::WorkNotDone {
            track: track.as_str(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ALL: [State; 9] = [
        State::Draft,
        State::Submitted,
        State::Approved,
        State::Verified,
        State::Designing,
        State::Listing,
        State::ConfiguratorDevelopment,
        State::Published,
        State::Rejected,
    ];

    fn at(state: State) -> Stage {
        Stage {
            state,
            ..Stage::DRAFT
        }
    }

    #[test]
    fn the_whole_lifecycle_in_order() {
        let s = Stage::DRAFT.submit().unwrap();
        let s = s.advance(State::Approved).unwrap();
        let s = s.advance(State::Verified).unwrap();
        let s = s.advance(State::Designing).unwrap();
        assert_eq!(
            (s.design, s.configurator),
            (Progress::InProgress, Progress::InProgress)
        );
        let s = s.set_work(Track::Configurator, Progress::Done).unwrap();
        let s = s.set_work(Track::Design, Progress::Done).unwrap();
        let s = s.advance(State::Listing).unwrap();
        let s = s.advance(State::ConfiguratorDevelopment).unwrap();
        let s = s.advance(State::Published).unwrap();
        assert_eq!(s, Stage::BASELINE);
    }

    #[test]
    fn only_the_listed_operator_steps_exist() {
        let legal = [
            (State::Submitted, State::Approved),
            (State::Submitted, State::Rejected),
            (State::Approved, State::Verified),
            (State::Verified, State::Designing),
            (State::Designing, State::Listing),
            (State::Listing, State::ConfiguratorDevelopment),
            (State::ConfiguratorDevelopment, State::Published),
        ];
        for from in ALL {
            for to in ALL {
                // Work done, so only the step itself decides.
                let stage = Stage {
                    state: from,
                    design: Progress::Done,
                    configurator: Progress::Done,
                };
                let result = stage.advance(to);
                if legal.contains(&(from, to)) {
                    assert_eq!(result.unwrap().state, to, "{from:?} → {to:?}");
                } else {
                    assert!(
                        matches!(result, Err(PricingError::IllegalTransition { .. })),
                        "{from:?} → {to:?} must be refused"
                    );
                }
            }
        }
    }

    #[test]
    fn only_drafts_and_rejected_solutions_are_submitted() {
        for from in ALL {
            let ok = at(from).submit().is_ok();
            assert_eq!(
                ok,
                matches!(from, State::Draft | State::Rejected),
                "{from:?}"
            );
        }
    }

    #[test]
    fn gates_wait_for_their_track() {
        let designing = Stage::DRAFT
            .submit()
            .and_then(|s| s.advance(State::Approved))
            .and_then(|s| s.advance(State::Verified))
            .and_then(|s| s.advance(State::Designing))
            .unwrap();
        assert!(matches!(
            designing.advance(State::Listing),
            Err(PricingError::WorkNotDone { track: "DESIGN" })
        ));
        let publishing = Stage {
            state: State::ConfiguratorDevelopment,
            design: Progress::Done,
            configurator: Progress::InProgress,
        };
        assert!(matches!(
            publishing.advance(State::Published),
            Err(PricingError::WorkNotDone {
                track: "CONFIGURATOR"
            })
        ));
    }

    #[test]
    fn tracks_change_only_while_open() {
        for from in ALL {
            let design_open = from == State::Designing;
            let configurator_open = matches!(
                from,
                State::Designing | State::Listing | State::ConfiguratorDevelopment
            );
            assert_eq!(
                at(from).set_work(Track::Design, Progress::Done).is_ok(),
                design_open,
                "{from:?}"
            );
            assert_eq!(
                at(from)
                    .set_work(Track::Configurator, Progress::Done)
                    .is_ok(),
                configurator_open,
                "{from:?}"
            );
        }
        assert!(
            at(State::Designing)
                .set_work(Track::Design, Progress::NotStarted)
                .is_err()
        );
    }

    #[test]
    fn stored_names_read_back() {
        for s in ALL {
            assert_eq!(State::parse(s.as_str()).unwrap(), s);
            assert_eq!(State::from_wire(s.to_proto() as i32), Some(s));
        }
        assert!(State::parse("NOPE").is_err());
        assert_eq!(State::from_wire(0), None);
        assert_eq!(State::from_wire(99), None);
    }
}
