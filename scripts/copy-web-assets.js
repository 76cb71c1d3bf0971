#!/usr/bin/env node
'use strict';
// tsc compiles the shipped web packages' pages (lib/web/packages/<key>/www/*.page.ts)
// into build/; their static files (the stylesheet) are copied next to them here.
const { cpSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
cpSync(join(root, 'lib/web/packages'), join(root, 'build/lib/web/packages'), {
  recursive: true,
  filter: (src) => !src.endsWith('.ts'),
});
