// The grokking lab's colours: train and test curves, and one per weight tensor.

export const TRAIN = '#d9480f';
export const TEST = '#1c7ed6';
export const LAYER_COLORS = ['#5f3dc4', '#c2255c', '#2b8a3e', '#e67700', '#1864ab', '#862e9c', '#5c940d', '#d9480f'];
