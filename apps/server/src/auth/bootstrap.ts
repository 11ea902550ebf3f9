import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Db } from '../db/client';
import { countAgents, insertAgent, type AgentDto } from '../domain/agents';
import { generatePassword, hashPassword } from './password';

export const DEFAULT_ADMIN_EMAIL = 'admin@parley.local';

export type FirstAdminResult =
  | { created: false }
  | {
      created: true;
      agent: AgentDto;
      /** Set only when Parley made the password up (no ADMIN_PASSWORD); it was printed once. */
      generatedPassword: string | null;
    };

/**
 * With no agents yet, creates the first admin from ADMIN_EMAIL/ADMIN_PASSWORD, else
 * admin@parley.local with a generated password printed once to stdout in a box — deliberately not
 * through the logger, so the password does not end up in JSON log pipelines. Does nothing otherwise.
 */
export async function ensureFirstAdmin({
  db,
  config,
  logger,
  print = (text: string) => console.log(text),
}: {
  db: Db;
  config: Pick<Config, 'adminEmail' | 'adminPassword'> & Partial<Pick<Config, 'passwordCost'>>;
  logger: Logger;
  print?: (text: string) => void;
}): Promise<FirstAdminResult> {
  if ((await countAgents(db)) > 0) return { created: false };
  const email = config.adminEmail ?? DEFAULT_ADMIN_EMAIL;
  const password = config.adminPassword ?? generatePassword();
  const generatedPassword = config.adminPassword === undefined ? password : null;
  const passwordHash = await hashPassword(password, config.passwordCost);
  // Checked again after the (slow) hash, with the insert in one write transaction: instances
  // starting together take turns there, so exactly one creates the admin.
  const agent = await db.$store.tx(async () =>
    (await countAgents(db)) > 0 ? null : await insertAgent(db, { email, name: 'Admin', passwordHash, role: 'admin' }),
  );
  if (!agent) return { created: false };
  logger.info({ agentId: agent.id, email: agent.email }, 'created the first admin');
  if (generatedPassword !== null) print(passwordBox(agent.email, generatedPassword));
  return { created: true, agent, generatedPassword };
}

function passwordBox(email: string, password: string): string {
  const lines = [
    'Parley created the first admin account:',
    '',
    `  email:    ${email}`,
    `  password: ${password}`,
    '',
    'This password is shown only this once. Sign in and keep it safe,',
    'or set ADMIN_EMAIL / ADMIN_PASSWORD before the first start.',
  ];
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '─'.repeat(width + 2);
  return ['', `┌${bar}┐`, ...lines.map((l) => `│ ${l.padEnd(width)} │`), `└${bar}┘`, ''].join('\n');
}
