//! [`state_enum!`]: the one way a domain declares an enum that is stored as
//! text and sent as a proto enum.

/// Declares a state enum with its stored string, its wire value, and the
/// reading of a wire value (`None` for UNSPECIFIED and unknown numbers).
/// `pb::$pb` is resolved where the macro is used: the caller's proto module
/// is in scope as `pb`.
#[macro_export]
macro_rules! state_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal, $pb:ident {
        $($(#[$vdoc:meta])* $variant:ident = $stored:literal,)*
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// The stored form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $stored,)*
                }
            }

            /// Reads the stored form; anything else is corruption.
            pub fn parse(s: &str) -> Result<Self, $crate::error::KernelError> {
                match s {
                    $($stored => Ok(Self::$variant),)*
                    other => Err($crate::error::KernelError::Corrupt(format!("{} {other:?}", $what))),
                }
            }

            /// The wire form.
            pub fn to_proto(self) -> pb::$pb {
                match self {
                    $(Self::$variant => pb::$pb::$variant,)*
                }
            }

            /// Reads a wire value: `None` for UNSPECIFIED and unknown numbers.
            pub fn from_wire(raw: i32) -> Option<Self> {
                let known = pb::$pb::try_from(raw).ok()?;
                [$(Self::$variant,)*].into_iter().find(|v| v.to_proto() == known)
            }
        }
    };
}
