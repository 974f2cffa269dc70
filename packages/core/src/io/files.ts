// File access for modules that also run in a browser: Node's file system by default,
// files.web.ts (which refuses paths with a clear error) under the "browser" condition.
export * from '#core-files';
