// The page's labs, in the header's order: the one place that names them all (the shell,
// www/gradscope.js, reaches each lab only through this list). A lab's module is
// www/labs/<key>/index.js, its key the spec's top-level key (`grokking`, `scans`, …); it
// exports { id, title, controls?, reportText, mount(ctx) → view } (see labs/grokking/); its
// form fields come from the form schema (www/form-schema.js, written from src/labs/<key>/schema.rs).
import grokking from './grokking/index.js';
import scans from './scans/index.js';
import gradientFlow from './gradient_flow/index.js';

export const LABS = [grokking, scans, gradientFlow];
