//! Projections against a real PostgreSQL: a fresh database per test, runners drained, never
//! slept on.

mod audit;
mod models;
mod rebuild;
mod runner;
mod seal;
mod support;
