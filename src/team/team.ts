import { FailedError, UsageError } from '../errors.js';
import { recipientKind } from '../vault/age.js';
import { validateName } from '../vault/names.js';

/**
 * A team vault is a git repository: `.keysmith-team.json` names the members (each an SSH public key
 * or an age recipient, and the paths they can read), one age file per secret (`db/password.age`,
 * the JSON of a keysmith record), and `.age-recipients` files generated from the member list so
 * that `age -R` and passage see the same recipients keysmith uses.
 */
export const TEAM_FILE = '.keysmith-team.json';
export const RECIPIENTS_FILE = '.age-recipients';

export interface Member {
  /** `ssh-ed25519 AAAA… comment`, `ssh-rsa AAAA…` or `age1…`. Only SSH members sign, so only they write. */
  recipient: string;
  /** The name prefixes the member reads: `''` for all, `'prod/'` for prod/ and below. */
  paths: string[];
}

export interface TeamDocument {
  format: 'keysmith-team';
  version: 1;
  name: string;
  members: Record<string, Member>;
}

const MEMBER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
const TEAM_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

export function validateTeamName(name: string): string {
  if (!TEAM_NAME.test(name)) throw new UsageError(`invalid team name ${JSON.stringify(name.slice(0, 72))}: use letters, digits and . _ -, starting with a letter or digit`, undefined, 'ERR_TEAM_BAD_NAME');
  return name;
}

export function validateMemberName(name: string): string {
  if (!MEMBER_NAME.test(name)) throw new UsageError(`invalid member name ${JSON.stringify(name.slice(0, 72))}: use letters, digits and . _ -, starting with a letter or digit`, undefined, 'ERR_TEAM_BAD_MEMBER');
  return name;
}

/** A folder prefix: `prod` and `prod/` are `prod/`; `''` and `/` are everything. */
export function normalizePath(path: string): string {
  const p = path.replace(/^\/+/, '').replace(/\/*$/, '');
  if (p === '') return '';
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(p) || p.split('/').some((part) => part === '..' || part === '.' || part === '')) {
    throw new UsageError(`invalid path ${JSON.stringify(path)}: a folder of secret names such as prod/`, undefined, 'ERR_TEAM_BAD_PATH');
  }
  return `${p}/`;
}

export function newTeam(name: string): TeamDocument {
  return { format: 'keysmith-team', version: 1, name: validateTeamName(name), members: {} };
}

/** Reads `.keysmith-team.json` (from the working tree or a commit); anything else is not a team vault. */
export function parseTeam(bytes: Uint8Array | null | undefined, where: string): TeamDocument {
  let doc: Partial<TeamDocument> | null = null;
  try {
    if (bytes) doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<TeamDocument>;
  } catch {
    /* below */
  }
  if (!doc || doc.format !== 'keysmith-team' || typeof doc.name !== 'string' || !doc.members || typeof doc.members !== 'object') {
    throw new FailedError(`${where} is not a keysmith team vault (no valid ${TEAM_FILE})`, undefined, 'ERR_TEAM_NOT_A_TEAM');
  }
  if (doc.version !== 1) throw new FailedError(`${where} is team format version ${String(doc.version)}, newer than this keysmith reads`, undefined, 'ERR_TEAM_VERSION');
  for (const [name, m] of Object.entries(doc.members)) {
    if (!MEMBER_NAME.test(name) || !m || typeof m.recipient !== 'string' || /[\x00-\x1f\x7f]/.test(m.recipient) || !Array.isArray(m.paths) || m.paths.some((p) => typeof p !== 'string')) {
      throw new FailedError(`${where}: member ${JSON.stringify(name)} is malformed`, undefined, 'ERR_TEAM_NOT_A_TEAM');
    }
  }
  return doc as TeamDocument;
}

export const serializeTeam = (doc: TeamDocument) => `${JSON.stringify(doc, null, 2)}\n`;

/** Whether the member reads `name` (a secret name, or a folder prefix ending in `/`). */
export const reads = (member: Member, name: string) => member.paths.some((p) => name.startsWith(p));

/** The members who read `name`, sorted by member name. */
export function readersOf(team: TeamDocument, name: string): Array<[string, Member]> {
  return Object.entries(team.members)
    .filter(([, m]) => reads(m, name))
    .sort(([a], [b]) => a.localeCompare(b));
}

/** Writers sign their commits: the members with an SSH key. */
export const isWriter = (member: Member) => recipientKind(member.recipient) !== 'x25519';

/** git's allowed_signers lines for the writers: how a commit's signature is checked. */
export function allowedSigners(team: TeamDocument): string[] {
  return Object.entries(team.members)
    .filter(([, m]) => isWriter(m))
    .map(([name, m]) => `${name} namespaces="git" ${m.recipient.trim().split(/\s+/).slice(0, 2).join(' ')}`);
}

/**
 * The `.age-recipients` files the member list implies: one at the top for the members who read
 * everything, and one in each folder some member is limited to, with everyone who reads there (the
 * nearest file applies, as in passage). Maps a folder (`''`, `prod/`) to the file's text.
 */
export function recipientFiles(team: TeamDocument): Map<string, string> {
  const folders = new Set<string>(['']);
  for (const m of Object.values(team.members)) for (const p of m.paths) folders.add(p);
  const files = new Map<string, string>();
  for (const folder of [...folders].sort()) {
    const lines = readersOf(team, folder).map(([name, m]) => `# ${name}\n${m.recipient.trim()}`);
    files.set(folder, `# written by keysmith from ${TEAM_FILE}; edit the team with keysmith team add/remove\n${lines.join('\n')}\n`);
  }
  return files;
}

/** The member named `name`: an own entry only (never `constructor` or `__proto__` of an object). */
export const memberOf = (team: TeamDocument, name: string | null): Member | undefined =>
  name !== null && Object.hasOwn(team.members, name) ? team.members[name] : undefined;

/**
 * Why a commit is not to be applied, or null when it may be. It is checked against the member list
 * before it: its signer must be a member who writes; they change secrets they read; only a member
 * who reads everything changes the member list, which must stay valid (`after`); the
 * `.age-recipients` files must be what that list implies; nothing else is added, and nothing
 * becomes a symlink or submodule.
 */
export function refusal(
  before: TeamDocument,
  signer: string | null,
  commit: { paths: string[]; nonFiles: string[] },
  after: TeamDocument | null,
  recipients: Map<string, string | null>,
): string | null {
  const member = memberOf(before, signer);
  if (!member || !isWriter(member)) return 'it is not signed by a member of the team';
  if (commit.nonFiles.length) return `it makes ${commit.nonFiles[0]} a symlink or a submodule, not a file`;
  if (commit.paths.includes(TEAM_FILE)) {
    if (!member.paths.includes('')) return `${signer} changes the member list, which only a member who reads everything may`;
    if (!after) return 'it removes or damages the member list';
  }
  const implied = recipientFiles(after!);
  for (const path of commit.paths) {
    if (path === TEAM_FILE) continue;
    if (recipients.has(path)) {
      if (recipients.get(path) !== (implied.get(path.slice(0, -RECIPIENTS_FILE.length)) ?? null)) return `its ${path} is not what the member list implies`;
      continue;
    }
    if (!path.endsWith('.age') || !isName(path.slice(0, -'.age'.length))) return `it changes ${path}, which is not a secret of the team`;
    if (!reads(member, path.slice(0, -'.age'.length))) return `${signer} changes ${path}, outside the paths they read`;
  }
  return null;
}

/** Whether a path names a secret keysmith could have written (a name validateName takes). */
function isName(name: string): boolean {
  try {
    validateName(name);
    return !name.startsWith('@');
  } catch {
    return false;
  }
}
