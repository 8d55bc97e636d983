#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { addBlueprintStacks } from '../lib/platform/blueprint';
import { resolveAppConfig } from '../lib/platform/config/app-config';
import { ConfigError } from '../lib/platform/config/config-error';
import { DESIGNS } from '../lib/designs';
import { hideBundlingLines, verboseSynth, verboseSynthContext } from './bundling-output';

const app = new App({ postCliContext: verboseSynthContext(process.env) });
// Bundling progress only when asked for (-c verbose=true, --debug); warnings and errors always.
if (!verboseSynth(app)) hideBundlingLines(process.stderr);
try {
  const config = resolveAppConfig(
    { design: app.node.tryGetContext('design'), profile: app.node.tryGetContext('profile') },
    DESIGNS,
  );
  addBlueprintStacks(app, config);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // A configuration mistake is the user's to fix: show the list, not a stack trace.
  console.error(error.message);
  process.exit(1);
}
app.synth();
