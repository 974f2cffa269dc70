// The platform the Trainer runs on: host.node.ts by default, host.web.ts under "browser".
export * from '#train-host';
