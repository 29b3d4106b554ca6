//! Settings of the grokking lab: task, model, loss, optimizer, training budget.
//!
//! Defaults are the Doshi et al. quick-grok preset (`docs/science.md` §1), so a partial
//! spec means "that preset, except …".

use serde::{Deserialize, Serialize};

use crate::spec::schema::FloatRange;
pub use crate::spec::{OptimizerKind, OptimizerSpec, TrainingSpec};
use crate::spec::{SpecError, check, check_range, in_range};
pub use crate::train::loss::{LossKind, Precision};

/// Largest modulus the lab accepts: 257 keeps the one-hot input (2p) and the p-way output small
/// enough for every backend, and p² pairs (66k) fit a full batch in a browser.
pub const MAX_MODULUS: u32 = 257;
/// Widest hidden layer accepted (fits easily in WebGPU's default 128 MiB storage-buffer limit).
pub const MAX_WIDTH: usize = 4096;
/// Deepest MLP accepted (hidden layers).
pub const MAX_DEPTH: usize = 4;
/// Deepest transformer accepted (blocks).
pub const MAX_LAYERS: usize = 4;
/// Widest transformer residual stream / MLP accepted.
pub const MAX_D_MODEL: usize = 1024;
pub const MAX_D_MLP: usize = 4096;
/// Share of the pairs used for training: both sets need some.
pub const TRAIN_FRAC: FloatRange = FloatRange::open(0.0, 1.0);
/// Label corruption ξ: all labels wrong is no task.
pub const LABEL_NOISE: FloatRange = FloatRange::closed_open(0.0, 1.0);
/// Initial-weight multiplier of either model.
pub const INIT_SCALE: FloatRange = FloatRange::open_closed(0.0, 100.0);
/// Output scale α (Kumar et al. 2024).
pub const OUTPUT_SCALE: FloatRange = FloatRange::open_closed(0.0, 10_000.0);

/// A grokking run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrokkingSpec {
    /// Seeds the train/test split, label noise, weight init and batch order.
    #[serde(with = "crate::spec::seed")]
    pub seed: u64,
    pub task: ModularTask,
    pub model: GrokkingModel,
    pub loss: LossSpec,
    pub optimizer: OptimizerSpec,
    pub training: TrainingSpec,
}

impl Default for GrokkingSpec {
    /// Doshi et al. quick grok: p = 97, frac 0.5, MLP x² width 500, MSE, AdamW 1e-2 wd 5.
    fn default() -> Self {
        Self {
            seed: 0,
            task: ModularTask::default(),
            model: GrokkingModel::default(),
            loss: LossSpec::default(),
            optimizer: OptimizerSpec::default(),
            training: TrainingSpec::default(),
        }
    }
}

/// Binary operations mod p (openai/grok `grok/data.py`), or your own (`{"expr": "a*b + 3"}`).
/// Every one is an expression of `data::expr`'s language ([`ModOp::expression`]), and the
/// dataset is generated from that expression, built-in or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModOp {
    /// a + b
    Add,
    /// a − b
    Sub,
    /// a · b
    Mul,
    /// a · b⁻¹ (b ≠ 0, so p·(p−1) pairs)
    Div,
    /// a² + ab + b²
    Quad,
    /// Your own operation over a, b and p (`data::expr`), e.g. `(a*b + 3) mod p` or
    /// `a - b if a < b else a + b`. A number typed alone (`7`) is read as that expression.
    Expr(#[serde(deserialize_with = "expr_text")] String),
}

/// An expression's text: a string, or a number (a link's `op.expr=7` decodes to one).
fn expr_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        S(String),
        U(u64),
        I(i64),
    }
    Ok(
        match Text::deserialize(d)
            .map_err(|_| serde::de::Error::custom("expected the expression as text"))?
        {
            Text::S(s) => s,
            Text::U(n) => n.to_string(),
            Text::I(n) => n.to_string(),
        },
    )
}

impl ModOp {
    pub const ALL: [ModOp; 5] = [ModOp::Add, ModOp::Sub, ModOp::Mul, ModOp::Div, ModOp::Quad];

    /// The formula, for labels.
    pub fn symbol(&self) -> &str {
        match self {
            ModOp::Add => "a+b",
            ModOp::Sub => "a−b",
            ModOp::Mul => "a·b",
            ModOp::Div => "a÷b",
            ModOp::Quad => "a²+ab+b²",
            ModOp::Expr(text) => text,
        }
    }

    /// The serialized name (`add`, `div`, …; `expr` for your own).
    pub fn name(&self) -> &'static str {
        match self {
            ModOp::Add => "add",
            ModOp::Sub => "sub",
            ModOp::Mul => "mul",
            ModOp::Div => "div",
            ModOp::Quad => "quad",
            ModOp::Expr(_) => "expr",
        }
    }

    /// The operation in `data::expr`'s language: what the dataset is generated from.
    pub fn expression(&self) -> &str {
        match self {
            ModOp::Add => "a + b",
            ModOp::Sub => "a - b",
            ModOp::Mul => "a * b",
            ModOp::Div => "a / b",
            ModOp::Quad => "a^2 + a*b + b^2",
            ModOp::Expr(text) => text,
        }
    }

    /// The spec path of this operation's field, for error messages.
    pub fn field(&self) -> &'static str {
        match self {
            ModOp::Expr(_) => "grokking.task.op.expr",
            _ => "grokking.task.op",
        }
    }
}

/// Which (a, b) pairs make up the dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairSet {
    /// Every pair (a, b) in 0..p × 0..p (b ≠ 0 for division).
    All,
    /// Only pairs with a ≤ b, as in the PAIR explorable (for commutative ops the others carry no
    /// new information).
    Unordered,
}

/// The dataset: pairs (a, b) in 0..p labelled by `op` mod p, split by `train_frac`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModularTask {
    pub op: ModOp,
    /// The modulus, a prime in 3..=257.
    pub p: u32,
    /// Fraction of all pairs used for training, in (0, 1).
    pub train_frac: f64,
    /// Label corruption ξ (Doshi et al.): the labels of ⌊ξ·|train|⌋ training pairs are replaced
    /// by other classes; the test set stays clean. In [0, 1).
    pub label_noise: f64,
    pub pairs: PairSet,
}

impl Default for ModularTask {
    fn default() -> Self {
        Self { op: ModOp::Add, p: 97, train_frac: 0.5, label_noise: 0.0, pairs: PairSet::All }
    }
}

/// The model family. Externally tagged: `{"mlp": {...}}` or `{"transformer": {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GrokkingModel {
    /// A multi-layer perceptron on one-hot(a) ⊕ one-hot(b), or on learned embeddings.
    Mlp(MlpSpec),
    /// A decoder-only transformer on the tokens [a, b, =], predicting at `=`.
    Transformer(TransformerSpec),
}

impl Default for GrokkingModel {
    fn default() -> Self {
        GrokkingModel::Mlp(MlpSpec::default())
    }
}

impl GrokkingModel {
    /// The serialized name (`mlp`, `transformer`).
    pub fn name(&self) -> &'static str {
        match self {
            GrokkingModel::Mlp(_) => "mlp",
            GrokkingModel::Transformer(_) => "transformer",
        }
    }
}

/// Hidden-layer activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// x², Doshi et al. / Gromov: makes the modular-addition solution analytic.
    Quadratic,
    Relu,
    Gelu,
}

/// Weight initialization scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitScheme {
    /// N(0, σ²), σ = 0.5 / (2N)^(1/3) for every layer, N = width
    /// (d-doshi/Grokking `utils/models.py`, class `fcn`).
    Doshi,
    /// U(−1/√fan_in, 1/√fan_in): PyTorch's `nn.Linear` default, used by Prieto et al.
    /// Embeddings N(0, 1) (`nn.Embedding`).
    TorchDefault,
    /// Haiku's defaults, as in the PAIR explorable's notebook: linear layers truncated
    /// N(0, 1/fan_in), embeddings `VarianceScaling(2)`: truncated N(0, 2/p).
    Haiku,
}

/// How the MLP sees (a, b).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MlpInput {
    /// one-hot(a) ⊕ one-hot(b), 2p wide (Doshi, Prieto).
    OneHot,
    /// Learned embeddings E_a[a] ⊕ E_b[b], each `dim` wide; `tied` shares one table between a
    /// and b (the PAIR explorable).
    Embedding(EmbeddingSpec),
}

/// A learned input embedding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddingSpec {
    /// Embedding width, 1..=4096.
    pub dim: usize,
    /// One table for both operands.
    pub tied: bool,
    /// One first-layer matrix for both operands: h = act(E[a]·W + E[b]·W) (PAIR's "tied
    /// hidden").
    pub shared_input_layer: bool,
    /// Read out through the embedding: logits = (h·W_out)·Eᵀ, with W_out `[width, dim]`
    /// (PAIR's tied unembedding; uses a's table when untied).
    pub tied_output: bool,
}

impl Default for EmbeddingSpec {
    fn default() -> Self {
        Self { dim: 128, tied: true, shared_input_layer: false, tied_output: false }
    }
}

/// MLP shape: `input (2p one-hot or 2·dim embedding) → width (× depth) → p`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpSpec {
    pub input: MlpInput,
    /// Hidden width N, 1..=4096.
    pub width: usize,
    /// Number of hidden layers, 1..=4.
    pub depth: usize,
    pub activation: Activation,
    /// Biases on every linear layer (the papers use none).
    pub bias: bool,
    pub init: InitScheme,
    /// Multiplies every initial weight (Omnigrok's α: large = lazy, slow to grok). (0, 100].
    pub init_scale: f64,
}

impl Default for MlpSpec {
    fn default() -> Self {
        Self {
            input: MlpInput::OneHot,
            width: 500,
            depth: 1,
            activation: Activation::Quadratic,
            bias: false,
            init: InitScheme::Doshi,
            init_scale: 1.0,
        }
    }
}

/// A decoder-only transformer on [a, b, =] (vocabulary p + 1), read out at `=`.
/// Defaults: Nanda et al.'s 1-layer model (`progress-measures-paper/transformers.py`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransformerSpec {
    /// Blocks (attention + MLP), 1..=4.
    pub layers: usize,
    /// Residual width, 1..=1024, divisible by `heads`.
    pub d_model: usize,
    /// Attention heads, 1..=d_model.
    pub heads: usize,
    /// MLP hidden width, 1..=4096.
    pub d_mlp: usize,
    /// Pre-LayerNorm before attention, MLP and unembed (Nanda's mainline has none).
    pub layer_norm: bool,
    /// Causal attention mask (Power et al.'s decoder; Nanda's model is causal too).
    pub causal: bool,
    /// Multiplies every initial weight, (0, 100].
    pub init_scale: f64,
}

impl Default for TransformerSpec {
    fn default() -> Self {
        Self {
            layers: 1,
            d_model: 128,
            heads: 4,
            d_mlp: 512,
            layer_norm: false,
            causal: true,
            init_scale: 1.0,
        }
    }
}

/// The loss and the output scale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossSpec {
    pub kind: LossKind,
    /// Float type of the loss computation and of the softmax-collapse metric.
    pub precision: Precision,
    /// Output scale α (Kumar et al. 2024, "lazy → rich"): logits f = α·(f_θ − f_θ₀) when
    /// `center` is set, else α·f_θ (Prieto's `alpha`). The learning rate is divided by α² so
    /// the function-space step stays the same. (0, 10000].
    pub output_scale: f64,
    /// Subtract the model's output at initialisation (f_θ₀), so the initial logits are 0.
    pub center: bool,
    /// Average the cross-entropy over the p classes too, i.e. divide it by p: the PAIR
    /// explorable's `-mean(one_hot · log_softmax)`. Adam ignores the loss's scale — except
    /// through ε, which a gradient p times smaller reaches p times sooner. (MSE is always a
    /// mean over classes.)
    pub class_mean: bool,
}

impl Default for LossSpec {
    fn default() -> Self {
        Self {
            kind: LossKind::Mse,
            precision: Precision::F32,
            output_scale: 1.0,
            center: false,
            class_mean: false,
        }
    }
}

pub(crate) fn is_prime(n: u32) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}

impl GrokkingSpec {
    /// Number of training pairs the task yields.
    pub fn train_size(&self) -> usize {
        let pairs = crate::labs::grokking::modular::pair_count(&self.task);
        (self.task.train_frac * pairs as f64).floor() as usize
    }

    /// Checks every field; the first bad one is reported with its allowed range.
    pub fn validate(&self) -> Result<(), SpecError> {
        let t = &self.task;
        check((3..=MAX_MODULUS).contains(&t.p) && is_prime(t.p), "grokking.task.p", || {
            // Any `/` (built-in or yours) is a modular inverse, which needs a prime.
            let why =
                if t.op.expression().contains('/') { " (division needs b⁻¹ mod p)" } else { "" };
            format!("must be a prime in 3..={MAX_MODULUS}{why} (got {})", t.p)
        })?;
        check(TRAIN_FRAC.contains(t.train_frac), "grokking.task.train_frac", || {
            format!("must be in the open interval (0, 1) (got {})", t.train_frac)
        })?;
        check_range(t.label_noise, LABEL_NOISE, "grokking.task.label_noise")?;
        // Parses the operation and labels the whole p × p grid once: a parse error, an
        // overflow or an operation that excludes every pair is refused here, naming the field.
        let op = crate::labs::grokking::modular::Operation::new(&t.op, t.p)?;
        check(t.pairs == PairSet::All || op.is_commutative(), "grokking.task.pairs", || {
            format!(
                "`unordered` (a ≤ b) is only for commutative operations (add, mul, quad, or an \
                 expression with op(a, b) = op(b, a)); {} needs `all`",
                t.op.symbol()
            )
        })?;
        let pairs = crate::labs::grokking::modular::pair_count(t);
        let n_train = self.train_size();
        check(n_train >= 1 && n_train < pairs, "grokking.task.train_frac", || {
            format!(
                "leaves {n_train} of {pairs} pairs for training; both the train and the test set \
                 need at least one pair"
            )
        })?;

        match &self.model {
            GrokkingModel::Mlp(m) => {
                if let MlpInput::Embedding(e) = &m.input {
                    in_range(e.dim, 1, MAX_WIDTH, "grokking.model.mlp.input.embedding.dim")?;
                }
                in_range(m.width, 1, MAX_WIDTH, "grokking.model.mlp.width")?;
                in_range(m.depth, 1, MAX_DEPTH, "grokking.model.mlp.depth")?;
                check_range(m.init_scale, INIT_SCALE, "grokking.model.mlp.init_scale")?;
            }
            GrokkingModel::Transformer(tr) => {
                in_range(tr.layers, 1, MAX_LAYERS, "grokking.model.transformer.layers")?;
                in_range(tr.d_model, 1, MAX_D_MODEL, "grokking.model.transformer.d_model")?;
                in_range(tr.heads, 1, tr.d_model, "grokking.model.transformer.heads")?;
                check(tr.d_model % tr.heads == 0, "grokking.model.transformer.heads", || {
                    format!(
                        "must divide d_model = {} (got {} heads; d_model / heads is the head size)",
                        tr.d_model, tr.heads
                    )
                })?;
                in_range(tr.d_mlp, 1, MAX_D_MLP, "grokking.model.transformer.d_mlp")?;
                check_range(tr.init_scale, INIT_SCALE, "grokking.model.transformer.init_scale")?;
            }
        }

        let l = &self.loss;
        check_range(l.output_scale, OUTPUT_SCALE, "grokking.loss.output_scale")?;

        self.optimizer.validate("grokking.optimizer")?;

        self.training.validate("grokking.training", n_train, "training pairs")?;
        Ok(())
    }
}

impl crate::spec::RunSpec for GrokkingSpec {
    fn validate(&self) -> Result<(), SpecError> {
        GrokkingSpec::validate(self)
    }

    fn training(&self) -> &TrainingSpec {
        &self.training
    }

    fn training_mut(&mut self) -> &mut TrainingSpec {
        &mut self.training
    }
}
