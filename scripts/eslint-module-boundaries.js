// @ts-check
/**
 * The dependency rule (issue 15): a module of src/ (its first folder: cameras/, timeline/, …) must
 * not import another module's repository (`*.repository`) or its entities (`entities/`). It goes
 * through that module's service; only the module itself talks to its tables, and within it only its
 * services and repositories: a controller (`*.controller.ts`) imports no repository, not even its
 * own module's (it maps routes onto services and holds no data access). Files directly in
 * src/ are the composition root (app.module.ts, app.entities.ts) and may import anything.
 *
 * A local ESLint rule (no plugin to install): `npm run lint` runs it over src/, and
 * src/module-boundaries.spec.ts proves it rejects a violation.
 */
const path = require('node:path');

/** The module a path under `srcDir` belongs to; null outside src/ or for the composition root. */
function moduleOf(srcDir, file) {
  const rel = path.relative(srcDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const parts = rel.split(path.sep);
  return parts.length > 1 ? parts[0] : null;
}

/** What of another module an import reaches that it must not: 'repository', 'entities' or null. */
function internalOf(srcDir, target) {
  const parts = path.relative(srcDir, target).split(path.sep);
  if (parts.slice(1, -1).includes('entities')) return 'entities';
  return /\.repository(\.ts)?$/.test(parts[parts.length - 1]) ? 'repository' : null;
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: "a module must not import another module's repository or entities" },
    messages: {
      foreign:
        "{{from}}/ must not import the {{what}} of {{to}}/ ('{{source}}'): go through {{to}}'s service (or its public types)",
      controller: "a controller must not import a repository ('{{source}}'): go through its module's service",
    },
    schema: [],
  },
  create(context) {
    const srcDir = path.join(context.cwd, 'src');
    const file = context.filename;
    const mine = moduleOf(srcDir, file);
    if (mine === null) return {};
    /** @param {any} node */
    const check = (node) => {
      const source = node.source && node.source.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), source);
      const theirs = moduleOf(srcDir, target);
      if (file.endsWith('.controller.ts') && internalOf(srcDir, target) === 'repository') {
        context.report({ node: node.source, messageId: 'controller', data: { source } });
        return;
      }
      if (theirs === null || theirs === mine) return;
      const what = internalOf(srcDir, target);
      if (what === null) return;
      context.report({
        node: node.source,
        messageId: 'foreign',
        data: { from: mine, to: theirs, what, source },
      });
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

module.exports = { rule, moduleOf, internalOf };
