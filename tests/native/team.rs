//! A run split over workers (`labs::team`): each share trains its models exactly as the whole
//! run does, so the shares' records joined are the whole run's, bit for bit, and shares saved
//! at one step join into the whole run's checkpoint. Checked against the whole run itself (an
//! independent path: one session training every model), on the scans lab's three unequal
//! models (with weight decay, so the optimizer's no-decay groups travel) and the gradient-flow
//! lab's four stacks (with their per-stack divergence flags).
#![cfg(not(target_arch = "wasm32"))]

use gradscope::backend;
use gradscope::labs::team::{merge_checkpoints, merge_records, plan_shares, share_of};
use gradscope::labs::{Checkpoint, ExperimentSpec, MetricsRecord, TrainingSession, presets};

use super::checkpoint::{with_budget, without_wall_time};

fn specs() -> Vec<ExperimentSpec> {
    let mut scans = presets::find("selective-copying").unwrap().spec;
    scans.training_mut().batch_size = 8;
    let ExperimentSpec::Scans(s) = &mut scans else { unreachable!() };
    s.optimizer.weight_decay = 0.1;
    vec![
        with_budget(scans, 24, 6),
        with_budget(presets::find("norm-placement").unwrap().spec, 24, 6),
    ]
}

/// Trains `session` to its end and returns it.
fn finished(mut session: TrainingSession) -> TrainingSession {
    pollster::block_on(session.run_to_end(|_| {})).unwrap();
    session
}

fn new_session(spec: &ExperimentSpec) -> TrainingSession {
    let cpu = backend::cpu();
    TrainingSession::new(spec.clone(), &cpu.device, cpu.limits).unwrap()
}

/// The whole run's end, its checkpoint through bytes.
fn whole_end(spec: &ExperimentSpec) -> Checkpoint {
    let s = finished(new_session(spec));
    Checkpoint::from_bytes(&s.checkpoint().unwrap().to_bytes()).unwrap()
}

fn assert_same_run(joined: &Checkpoint, whole: &Checkpoint, what: &str) {
    assert_eq!(joined.spec, whole.spec, "{what}: spec");
    assert_eq!(
        without_wall_time(&joined.history),
        without_wall_time(&whole.history),
        "{what}: history"
    );
    assert_eq!(joined.state.step, whole.state.step, "{what}: step");
    assert_eq!(joined.state.rng, whole.state.rng, "{what}: data stream");
    assert_eq!(joined.state.extra, whole.state.extra, "{what}: lab state");
    assert_eq!(joined.state.models.len(), whole.state.models.len(), "{what}: models");
    // The weights' bytes carry each build's random parameter ids, so the weights and the
    // optimizer state are compared by what they do: both runs, given 12 more steps, train on.
    let cpu = backend::cpu();
    let go_on = |c: &Checkpoint| {
        let mut c = c.clone();
        c.spec.training_mut().steps += 12;
        finished(TrainingSession::resume(c, &cpu.device, cpu.limits).unwrap())
    };
    assert_eq!(
        without_wall_time(go_on(joined).history()),
        without_wall_time(go_on(whole).history()),
        "{what}: the joined run trains on differently (weights or optimizer state differ)"
    );
}

#[test]
fn shares_trained_from_step_0_join_into_the_whole_run_bit_for_bit() {
    for spec in specs() {
        let lab = spec.lab();
        let whole = whole_end(&spec);
        let plan = plan_shares(&spec, 2);
        assert_eq!(plan.len(), 2, "{lab}: two shares for two workers");
        let shares: Vec<Checkpoint> = plan
            .iter()
            .map(|names| {
                let s = finished(new_session(&spec.with_models(names).unwrap()));
                s.checkpoint().unwrap()
            })
            .collect();
        // Record by record, as the page joins them while the shares train.
        for (k, record) in whole.history.iter().enumerate() {
            let parts: Vec<MetricsRecord> = shares.iter().map(|s| s.history[k].clone()).collect();
            let joined = merge_records(&parts).unwrap();
            assert_eq!(
                MetricsRecord { wall_ms: 0.0, ..joined },
                MetricsRecord { wall_ms: 0.0, ..record.clone() },
                "{lab}: record at step {}",
                record.step
            );
        }
        let joined = merge_checkpoints(&spec, &shares).unwrap();
        assert_same_run(&joined, &whole, lab);
    }
}

#[test]
fn a_run_split_mid_way_and_joined_at_its_end_equals_the_whole_run() {
    let cpu = backend::cpu();
    for spec in specs() {
        let lab = spec.lab();
        let whole = whole_end(&spec);
        let mut first_half = new_session(&spec);
        pollster::block_on(async {
            while first_half.step() < spec.steps() / 2 {
                first_half.advance(spec.steps() / 2 - first_half.step()).await.unwrap();
            }
        });
        let at_split = first_half.checkpoint().unwrap();
        // Three workers: the scans lab's three models one each, the four stacks 2 + 1 + 1.
        let plan = plan_shares(&spec, 3);
        let shares: Vec<Checkpoint> = plan
            .iter()
            .map(|names| {
                let bytes = share_of(&at_split, names).unwrap().to_bytes();
                let share = Checkpoint::from_bytes(&bytes).unwrap();
                let s = TrainingSession::resume(share, &cpu.device, cpu.limits).unwrap();
                finished(s).checkpoint().unwrap()
            })
            .collect();
        let joined = merge_checkpoints(&spec, &shares).unwrap();
        assert_same_run(&joined, &whole, lab);
        // Joined and resumed by one worker, the run is the whole run again (it is finished).
        let resumed = TrainingSession::resume(joined, &cpu.device, cpu.limits).unwrap();
        assert!(resumed.is_finished(), "{lab}");
    }
}

#[test]
fn shares_are_planned_by_cost_and_bad_joins_are_refused_by_name() {
    let [scans, flow] = <[ExperimentSpec; 2]>::try_from(specs()).unwrap();
    // The selective-copying preset's models: Mamba's selective scan is the costliest, so it
    // trains alone while the two S4D models share a worker.
    assert_eq!(scans.model_names(), ["gated-s4d", "mamba", "s4d"]);
    assert_eq!(
        plan_shares(&scans, 2),
        [vec!["mamba".to_string()], vec!["gated-s4d".into(), "s4d".into()]]
    );
    assert_eq!(plan_shares(&scans, 8).len(), 3, "no more workers than models");
    assert_eq!(plan_shares(&flow, 2).iter().map(Vec::len).collect::<Vec<_>>(), [2, 2]);
    let grokking = presets::default_preset().spec;
    assert!(plan_shares(&grokking, 4).is_empty(), "a one-model run is not split");
    let err = grokking.with_models(&["x".into()]).unwrap_err();
    assert!(err.to_string().contains("cannot be split"), "{err}");
    let err = scans.with_models(&["lstm".into()]).unwrap_err();
    assert!(err.to_string().contains("no model named `lstm`"), "{err}");

    let whole = finished(new_session(&flow)).checkpoint().unwrap();
    let plan = plan_shares(&flow, 2);
    let shares: Vec<Checkpoint> = plan.iter().map(|n| share_of(&whole, n).unwrap()).collect();
    let refused = |parts: &[Checkpoint], spec: &ExperimentSpec| {
        merge_checkpoints(spec, parts).expect_err("the join must be refused")
    };
    assert!(refused(&shares[..1], &flow).contains("no share holds the model"));
    let twice = [shares[0].clone(), shares[0].clone(), shares[1].clone()];
    assert!(refused(&twice, &flow).contains("is in two shares"));
    let mut behind = shares.clone();
    behind[1].state.step -= 1;
    assert!(refused(&behind, &flow).contains("different steps"));
    let mut reseeded = flow.clone();
    let ExperimentSpec::GradientFlow(s) = &mut reseeded else { unreachable!() };
    s.seed += 1;
    assert!(refused(&shares, &reseeded).contains("another run"));
    let err = merge_records(&[whole.history[0].clone(), whole.history[1].clone()]).unwrap_err();
    assert!(err.contains("different steps"), "{err}");
}
