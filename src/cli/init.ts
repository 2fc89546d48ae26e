import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CogtsError } from '../errors.js';
import type { GlobalOptions } from './common.js';

interface InitArgs extends GlobalOptions {
  dir: string;
}

const cogYaml = `# Configuration for Cog and cogts ⚙️
# Reference: see the "cog.yaml" section of cogts' README (the same format as Cog's)

build:
  # set to true if your model requires a GPU
  gpu: false

  # python version in the form '3.11' or '3.11.4'
  python_version: "3.11"

  # a list of ubuntu/debian system packages to install (apt names)
  # system_packages:
  #   - "libgl1"
  #   - "libglib2.0-0"

  # python packages in the format <package-name>==<version>
  # (or: python_requirements: requirements.txt)
  # python_packages:
  #   - "numpy==1.26.4"
  #   - "torch==2.1.0"

# predict.py defines how predictions are run on your model
predict: "predict.py:Predictor"
`;

const predictPy = `# Prediction interface for Cog and cogts ⚙️
# https://cog.run/python

from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def setup(self) -> None:
        """Load the model into memory to make running multiple predictions efficient"""
        # self.model = torch.load("./weights.pth")

    def predict(
        self,
        image: Path = Input(description="Grayscale input image"),
        scale: float = Input(
            description="Factor to scale image by", ge=0, le=10, default=1.5
        ),
    ) -> Path:
        """Run a single prediction on the model"""
        # processed_input = preprocess(image)
        # output = self.model(processed_image, scale)
        # return postprocess(output)
        return image
`;

const dockerignore = `# The format of .dockerignore files: https://docs.docker.com/build/concepts/context/#dockerignore-files
# cogts reads it to leave files out of the model code layer.

# Exclude Git files
.git
.github
.gitignore

# Exclude Python cache files
__pycache__
.mypy_cache
.pytest_cache
.ruff_cache

# Exclude Python virtual environment
/venv
`;

/** The files `cogts init` writes, in order: name → content (exported for tests). */
export const initFiles: readonly (readonly [string, string])[] = [
  ['cog.yaml', cogYaml],
  ['predict.py', predictPy],
  ['.dockerignore', dockerignore],
];

/**
 * Writes the starter files into `dir`. Nothing is overwritten: if any of them exists, nothing is
 * written at all (all-or-nothing, so a half-initialised folder never results).
 */
export async function initProject(dir: string): Promise<string[]> {
  const written: string[] = [];
  const existing = initFiles.map(([name]) => name).filter((name) => existsSync(join(dir, name)));
  if (existing.length > 0) {
    throw new CogtsError(
      'E_EXISTS',
      `${existing.map((n) => join(dir, n)).join(', ')} already exist${existing.length === 1 ? 's' : ''}; cogts init writes nothing`,
      {
        hint: 'move or delete them first, or run cogts init in an empty folder',
      },
    );
  }
  for (const [name, content] of initFiles) {
    // 'wx' fails instead of overwriting if the file appeared since the check.
    await writeFile(join(dir, name), content, { flag: 'wx' });
    written.push(name);
  }
  return written;
}

export const initCommand: CommandModule<GlobalOptions, InitArgs> = {
  command: 'init [dir]',
  describe: 'Write a starter cog.yaml, predict.py and .dockerignore (never overwrites)',
  builder: ((y: Argv<GlobalOptions>) =>
    y
      .positional('dir', { type: 'string', default: '.', describe: 'Folder to initialise' })
      .example('$0 init', 'Start a model in the current folder')
      .example(
        '$0 init && $0 build --dry-run',
        'Then see what building it would do',
      )) as unknown as CommandModule<GlobalOptions, InitArgs>['builder'],
  handler: async (args: ArgumentsCamelCase<InitArgs>) => {
    const dir = resolve(args.dir);
    const written = await initProject(dir);
    process.stdout.write(
      `Wrote ${written.join(', ')} in ${dir}\nNext: edit predict.py, then run cogts build --dry-run\n`,
    );
  },
};
