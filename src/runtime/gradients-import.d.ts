// The types of `#tfjs-gradients` (package.json "imports"), a module loaded for its effect only:
// it registers tfjs-core's gradients (see src/runtime/gradients.ts).
export {};
