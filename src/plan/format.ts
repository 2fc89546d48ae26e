import type { BuildPlan, LayerSpec } from './types.js';

/** The plan as `cogts build --dry-run` prints it for people: decisions first, each with its why. */
export function formatPlan(plan: BuildPlan): string {
  const t = plan.toolchain;
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  line(`Build plan for ${plan.configFile} (cogts ${plan.cogtsVersion}, ${platformText(plan)})`);
  line();
  line(`Base image   ${plan.base.ref}`);
  for (const l of wrap(plan.base.why, 100 - 13)) line(`             ${l}`);
  line(`Python       ${t.python.version} (${t.python.why})`);
  if (t.gpu) {
    line(
      `GPU          CUDA ${t.cuda ?? '(from --base-image)'}${t.cudnn ? `, cuDNN ${t.cudnn}` : ''}${t.cudaVariant ? `, ${t.cudaVariant} image` : ''}`,
    );
    if (t.cudaVariantWhy) for (const l of wrap(t.cudaVariantWhy, 100 - 13)) line(`             ${l}`);
  } else {
    line('GPU          no (build.gpu is false)');
  }
  for (const [name, f] of [
    ['torch', t.torch],
    ['tensorflow', t.tensorflow],
  ] as const) {
    if (!f) continue;
    line(
      `${name.padEnd(13)}${f.version ?? f.requested}${f.build ? ` ${f.build}` : ''}${f.known ? '' : ' (not in compat tables)'}: ${f.why}`,
    );
  }
  if (t.torchIndexUrl) line(`Torch index  ${t.torchIndexUrl}`);
  for (const r of t.rewrites) line(`Pin          ${r.from} -> ${r.to}  (${r.origin}: ${r.why})`);
  line();
  line('Layers (bottom to top):');
  plan.layers.forEach((layer, i) => {
    line(`  ${String(i + 1).padStart(2)}. ${layer.id.padEnd(14)} ${layer.description}`);
    const detail = layerDetail(layer, plan);
    if (detail) line(`      ${''.padEnd(14)} ${detail}`);
  });
  line();
  line('Image config:');
  line(`  Entrypoint   ${JSON.stringify(plan.image.entrypoint)}`);
  line(`  WorkingDir   ${plan.image.workingDir}`);
  line(`  Ports        ${plan.image.exposedPorts.join(', ')}`);
  line(`  Env          ${plan.image.env.map((e) => `${e.name}=${e.value}`).join(' ')}`);
  line(`  PATH         ${plan.image.pathPrepend.join(':')}:<base image PATH>`);
  for (const [k, v] of Object.entries(plan.image.labels)) {
    line(`  Label        ${k}=${v.length > 80 ? `${v.slice(0, 77)}...` : v}`);
  }
  line();
  const targets = [
    plan.target.tag && `tag ${plan.target.tag}`,
    plan.target.push && `push to ${plan.target.push}`,
    plan.target.output && `write ${plan.target.output.kind}:${plan.target.output.path}`,
  ].filter(Boolean);
  line(`Output       ${targets.length ? targets.join(', ') : 'none named (use -t, --push or --output)'}`);
  line(`Cache        ${plan.cache.enabled ? plan.cache.dir : 'off (--no-cache)'}`);
  const c = plan.compression;
  line(
    `Compression  ${c.algorithm} level ${c.level}${c.algorithm === 'zstd' ? ' (OCI tar+zstd layers; a Docker-format base makes an OCI image)' : ''}`,
  );
  for (const m of plan.network.registryMirrors) line(`Mirror       ${m.host} -> ${m.url}`);
  if (plan.notes.length) {
    line();
    for (const n of plan.notes) line(`note: ${n}`);
  }
  return `${out.join('\n')}\n`;
}

/** Greedy word wrap, so explanations stay readable in an 100-column terminal. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/)) {
    if (current && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) lines.push(current);
  return lines;
}

function platformText(plan: BuildPlan): string {
  const p = plan.platform;
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function layerDetail(layer: LayerSpec, plan: BuildPlan): string | undefined {
  switch (layer.kind) {
    case 'apt':
      return undefined;
    case 'python':
      return `provider ${layer.provider}, prefix ${layer.prefix}`;
    case 'pip': {
      const reqs = plan.python.requirements.map((r) => r.line);
      const idx = [plan.python.indexUrl ?? 'PyPI', ...plan.python.extraIndexUrls].join(', ');
      return `${reqs.length} requirement(s): ${reqs.slice(0, 6).join(' ')}${reqs.length > 6 ? ' …' : ''}; indexes: ${idx}`;
    }
    case 'run':
      return layer.commands.map((c) => c.command).join(' && ');
    case 'runtime':
      return `under ${layer.root}`;
    case 'code':
      return `to ${layer.target}, honouring ${layer.ignoreFile}`;
  }
}
