import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { replacePrefix, rewritePkgconfig, rewriteSysconfigdata } from '../../src/sources/python/index.js';

// Shaped like a real python-build-standalone _sysconfigdata (pprint output, long values split).
const SYSCONFIG = `# system configuration generated and used by the sysconfig module
build_time_vars = {'ABIFLAGS': '',
 'AR': '/tools/llvm/bin/llvm-ar',
 'BINDIR': '/install/bin',
 'BLDSHARED': 'clang -shared -L/tools/deps/lib -Wl,-rpath,/install/lib '
              '-L/install/lib',
 'CC': 'clang -pthread',
 'CONFIG_ARGS': "'--prefix=/install' '--with-openssl=/tools/deps'",
 'CXX': 'clang++ -pthread',
 'INCLUDEPY': '/install/include/python3.11',
 'LDCXXSHARED': 'clang++ -shared',
 'LIBDIR': '/install/lib',
 'OTHER': '/installer/x /x/install/y clang',
 'prefix': '/install'}
`;

describe('python-build-standalone relocation', () => {
  it('rewrites the build prefix and toolchain in _sysconfigdata like uv, and marks the install', () => {
    const out = rewriteSysconfigdata(SYSCONFIG, '/opt/python');
    // Python itself reads the result: it must stay a valid module.
    const vars = JSON.parse(
      execFileSync(
        'python3',
        [
          '-c',
          'import json,sys; ns={}; exec(sys.stdin.read(), ns); print(json.dumps(ns["build_time_vars"]))',
        ],
        { input: out, encoding: 'utf8' },
      ),
    );
    assert.equal(vars.BINDIR, '/opt/python/bin');
    assert.equal(vars.LIBDIR, '/opt/python/lib');
    assert.equal(vars.INCLUDEPY, '/opt/python/include/python3.11');
    assert.equal(vars.prefix, '/opt/python');
    assert.equal(vars.BLDSHARED, 'cc -shared -L/tools/deps/lib -Wl,-rpath,/opt/python/lib -L/opt/python/lib');
    assert.equal(vars.CC, 'cc -pthread');
    assert.equal(vars.CXX, 'c++ -pthread');
    assert.equal(vars.LDCXXSHARED, 'c++ -shared');
    assert.equal(vars.AR, 'ar');
    assert.equal(vars.CONFIG_ARGS, "'--prefix=/opt/python' '--with-openssl=/tools/deps'");
    assert.equal(
      vars.OTHER,
      '/installer/x /x/install/y clang',
      'only whole-prefix paths and only compiler variables change',
    );
    assert.equal(vars.PYTHON_BUILD_STANDALONE, 1);
    assert.equal(rewriteSysconfigdata(out, '/opt/python'), out, 'idempotent');
  });

  it('rewrites pkg-config prefixes to be location-independent and shebangs to the real prefix', () => {
    const pc =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: pkg-config's own ${var} syntax.
      'prefix=/install\nexec_prefix=${prefix}\nlibdir=${exec_prefix}/lib\nCflags: -I${includedir}/python3.11\n';
    assert.equal(
      rewritePkgconfig(pc),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: pkg-config's own ${var} syntax.
      'prefix=${pcfiledir}/../..\nexec_prefix=${prefix}\nlibdir=${exec_prefix}/lib\nCflags: -I${includedir}/python3.11\n',
    );
    assert.equal(
      replacePrefix('#!/install/bin/python3.11\nimport sys\n', '/opt/python'),
      '#!/opt/python/bin/python3.11\nimport sys\n',
    );
    assert.equal(
      replacePrefix('prefix_build="/install"\nx=/install:/usr', '/opt/python'),
      'prefix_build="/opt/python"\nx=/opt/python:/usr',
    );
  });
});
