//! The engine's suites, one test binary: the shipped workflows, broken definitions, whole
//! procedures on real dates, and properties of random action sequences.

mod co_handling;
mod definitions;
mod deliberation;
mod extensions;
mod follow_up;
mod joint;
mod liaison;
mod livelihood;
mod machine;
mod mediation;
mod pause;
mod properties;
mod recheck;
mod shipped;
mod supervision;
mod world;
