/**
 * Maintainer scripts are never run (no emulator, no chroot). We recognise the effects that matter to
 * a runnable image, recreate them as data, and list every script that did anything else.
 */

export interface AlternativeInstall {
  link: string;
  name: string;
  path: string;
  priority: number;
  slaves: { link: string; name: string; path: string }[];
  pkg: string;
}

/** Shell words of a script, with `\`-newline joined and simple `VAR=value` assignments expanded. */
function logicalLines(script: string): string[] {
  return script.replace(/\\\n/g, ' ').split('\n');
}

function expand(line: string, vars: Map<string, string>): string | undefined {
  let unresolved = false;
  const out = line.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, v: string) => {
    const val = vars.get(v);
    if (val === undefined) unresolved = true;
    return val ?? '';
  });
  return unresolved ? undefined : out;
}

/** `update-alternatives --install link name path prio [--slave link name path]...` calls of a postinst. */
export function findAlternatives(
  pkg: string,
  postinst: string,
  multiarch: string,
): { installs: AlternativeInstall[]; unresolved: string[] } {
  const vars = new Map<string, string>([['DEB_HOST_MULTIARCH', multiarch]]);
  const installs: AlternativeInstall[] = [];
  const unresolved: string[] = [];
  for (const raw of logicalLines(postinst)) {
    const line = raw.trim();
    const assign = /^([A-Za-z_][A-Za-z0-9_]*)=(["']?)([^"'$`\s]*)\2\s*$/.exec(line);
    if (assign) vars.set(assign[1]!, assign[3]!);
    const at = line.indexOf('update-alternatives');
    if (at < 0 || !/--install\b/.test(line)) continue;
    const ex = expand(line.slice(at), vars);
    if (ex === undefined) {
      unresolved.push(line);
      continue;
    }
    const words = ex
      .replace(/[;&|].*$/, '')
      .replace(/["']/g, '')
      .split(/\s+/)
      .filter(Boolean);
    const i = words.indexOf('--install');
    const [link, name, path, prio] = words.slice(i + 1, i + 5);
    if (!link || !name || !path || !prio || !/^-?\d+$/.test(prio)) {
      unresolved.push(line);
      continue;
    }
    const alt: AlternativeInstall = { link, name, path, priority: Number(prio), slaves: [], pkg };
    for (let k = i + 5; k < words.length; k++)
      if (words[k] === '--slave' && words[k + 3]) {
        alt.slaves.push({ link: words[k + 1]!, name: words[k + 2]!, path: words[k + 3]! });
        k += 3;
      }
    installs.push(alt);
  }
  return { installs, unresolved };
}

/**
 * Lines of a preinst/postinst that are neither boilerplate nor an effect we reproduce (ldconfig
 * via the regenerated cache, update-alternatives --install, conffile helpers that only matter on
 * upgrades). Empty result = nothing was skipped.
 */
export function unhandledLines(script: string): string[] {
  const out: string[] = [];
  for (const raw of logicalLines(script)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '' || line.startsWith('#!')) continue;
    // Upgrade/removal branches (abort-upgrade, remove…) never run on a fresh install.
    if (/^(set\s+-e|exit\s+0|esac|fi|;;|else|then|done|do|\}|\{|true|:)$/.test(line)) continue;
    if (/^(case|if|elif|for|while)\b/.test(line)) continue;
    if (/^[a-z|\-*"' ]+\)\s*(;;)?$/i.test(line)) continue;
    if (/^(\S+=)/.test(line) && !/[`$(]/.test(line.replace(/\$\{?[A-Za-z_]+\}?/g, ''))) continue;
    if (/\bldconfig\b/.test(line)) continue;
    if (/update-alternatives\s+--install/.test(line) || /--slave\b/.test(line)) continue;
    if (/dpkg-maintscript-helper|dpkg --compare-versions|echo\s/.test(line)) continue;
    out.push(line);
  }
  return out;
}

/** Trigger names a package activates (`triggers` control file): ldconfig is handled, others reported. */
export function activatedTriggers(triggers: string | undefined): string[] {
  if (!triggers) return [];
  return triggers
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((w) => w[0]?.startsWith('activate') && w[1])
    .map((w) => w[1]!);
}
