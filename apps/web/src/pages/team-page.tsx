import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { RouterOutputs } from '@parley/server';
import type { AgentRole } from '@parley/shared/team';
import { useAllPresence } from '../live/presence';
import { errorMessage } from '../lib/errors';
import { formatListTime } from '../lib/format';
import { queryClient, trpc } from '../trpc';
import { AutoAssignSettings } from '../components/auto-assign-settings';
import { Link } from '../components/link';
import { paths } from '../lib/navigation';
import { ComplianceSettings } from '../components/compliance-settings';

type Agent = RouterOutputs['auth']['me'];
type Member = RouterOutputs['agent']['list'][number];

const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.agent.list.queryKey() });

/** Admins manage the team here; agents see who is on it (the server refuses them the rest anyway). */
export function TeamPage({ me }: { me: Agent }) {
  const team = useQuery(trpc.agent.list.queryOptions());
  const admin = me.role === 'admin';
  const [link, setLink] = useState<{ label: string; url: string } | null>(null);
  const online = new Set(useAllPresence().map((e) => e.agentId));

  return (
    <div className="page-body team-page">
      <div className="page-head">
        <h1>Team</h1>
      </div>
      <p className="muted">
        {admin
          ? 'Invite colleagues, change roles, disable accounts. Admins also manage API tokens, opt-outs and campaigns.'
          : 'Who works in this inbox. Ask an admin to invite someone or change a role.'}
      </p>
      {admin && (
        <nav className="small admin-links" aria-label="Administration">
          <Link to={paths.integrations} className="inline-link">
            Integrations
          </Link>{' '}
          (outbound webhooks) ·{' '}
          <Link to={paths.audit} className="inline-link">
            Audit log
          </Link>{' '}
          ·{' '}
          <Link to={paths.refusedWebhooks} className="inline-link">
            Refused webhooks
          </Link>{' '}
          (provider webhooks Parley refused: review and replay)
        </nav>
      )}
      {admin && <AutoAssignSettings />}
      {admin && <ComplianceSettings />}
      {admin && <InviteForm onLink={setLink} />}
      {link && (
        <div className="invite-link card" role="status" data-testid="invite-link">
          <p>
            <strong>{link.label}</strong> It works once, for 7 days. Copy it and send it to them; Parley shows it only now.
          </p>
          <div className="copy-row">
            <input className="search" readOnly value={link.url} aria-label="One-time link" onFocus={(e) => e.currentTarget.select()} />
            <button className="button" type="button" onClick={() => void navigator.clipboard?.writeText(link.url)}>
              Copy
            </button>
            <button className="button ghost" type="button" onClick={() => setLink(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      {team.isError && (
        <p className="error" role="alert">
          {errorMessage(team.error)}
        </p>
      )}
      <div className="card table-wrap">
        <table className="table team-table" aria-label="Agents">
          <thead>
            <tr>
              <th>Name</th>
              <th>Email</th>
              <th>Role</th>
              <th>State</th>
              <th>Last seen</th>
              {admin && <th aria-label="Actions" />}
            </tr>
          </thead>
          <tbody>
            {(team.data ?? []).map((member) => (
              <MemberRow key={member.id} member={member} me={me} admin={admin} online={online.has(member.id)} onLink={setLink} />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function InviteForm({ onLink }: { onLink: (link: { label: string; url: string }) => void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<AgentRole>('agent');
  const invite = useMutation(
    trpc.agent.invite.mutationOptions({
      onSuccess: ({ agent, inviteUrl }) => {
        onLink({ label: `Invitation link for ${agent.name}.`, url: inviteUrl });
        setEmail('');
        setName('');
        setRole('agent');
        void refresh();
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    invite.mutate({ email, name, role });
  };
  return (
    <form className="invite-form card" onSubmit={submit} aria-label="Invite an agent">
      <label className="field">
        <span>Name</span>
        <input required value={name} onChange={(e) => setName(e.target.value)} maxLength={100} />
      </label>
      <label className="field">
        <span>Email</span>
        <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label className="field">
        <span>Role</span>
        <select value={role} onChange={(e) => setRole(e.target.value as AgentRole)}>
          <option value="agent">Agent</option>
          <option value="admin">Admin</option>
        </select>
      </label>
      <button className="button primary" type="submit" disabled={invite.isPending}>
        {invite.isPending ? 'Inviting…' : 'Invite'}
      </button>
      {invite.error && (
        <p className="error" role="alert">
          {errorMessage(invite.error)}
        </p>
      )}
    </form>
  );
}

function stateOf(member: Member): string {
  if (member.disabledAt !== null) return 'Disabled';
  if (member.invitePending) return 'Invited';
  return 'Active';
}

function MemberRow({
  member,
  me,
  admin,
  online,
  onLink,
}: {
  member: Member;
  me: Agent;
  admin: boolean;
  online: boolean;
  onLink: (link: { label: string; url: string }) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(member.name);
  const update = useMutation(
    trpc.agent.update.mutationOptions({
      onSuccess: (updated) => {
        setEditing(false);
        void refresh();
        // My own name or role changed: the header and what the UI offers follow at once.
        if (updated.id === me.id) queryClient.setQueryData(trpc.auth.me.queryKey(), updated);
      },
    }),
  );
  const disable = useMutation(trpc.agent.setDisabled.mutationOptions({ onSuccess: () => void refresh() }));
  const reset = useMutation(
    trpc.agent.resetPassword.mutationOptions({
      onSuccess: ({ inviteUrl }) => onLink({ label: `Password-reset link for ${member.name}.`, url: inviteUrl }),
    }),
  );
  const error = update.error ?? disable.error ?? reset.error;
  const disabled = member.disabledAt !== null;
  const self = member.id === me.id;

  return (
    <tr data-agent-id={member.id} className={disabled ? 'muted' : undefined}>
      <td>
        {editing ? (
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              update.mutate({ id: member.id, name });
            }}
          >
            <input
              className="search"
              aria-label={`New name for ${member.name}`}
              value={name}
              onChange={(e) => setName(e.target.value)}
              autoFocus
            />
            <button className="button" type="submit" disabled={update.isPending}>
              Save
            </button>
            <button className="button ghost" type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </form>
        ) : (
          <>
            {member.name}
            {self && <span className="muted"> (you)</span>}
          </>
        )}
        {error && (
          <p className="error small" role="alert">
            {errorMessage(error)}
          </p>
        )}
      </td>
      <td>{member.email}</td>
      <td>
        {admin ? (
          <select
            className="select"
            aria-label={`Role of ${member.name}`}
            value={member.role}
            disabled={update.isPending}
            onChange={(e) => update.mutate({ id: member.id, role: e.target.value as AgentRole })}
          >
            <option value="agent">Agent</option>
            <option value="admin">Admin</option>
          </select>
        ) : (
          <span className="tag">{member.role === 'admin' ? 'Admin' : 'Agent'}</span>
        )}
      </td>
      <td>
        <span className={`tag ${disabled ? 'tag-danger' : member.invitePending ? 'tag-warn' : 'tag-ok'}`}>{stateOf(member)}</span>
      </td>
      <td>
        {online ? (
          <span className="presence">
            <span className="presence-dot" aria-hidden="true" /> online now
          </span>
        ) : member.lastSeenAt ? (
          <time dateTime={member.lastSeenAt}>{formatListTime(member.lastSeenAt)}</time>
        ) : (
          <span className="muted">never</span>
        )}
      </td>
      {admin && (
        <td className="row-actions">
          {!editing && (
            <button className="button ghost" type="button" onClick={() => setEditing(true)}>
              Rename
            </button>
          )}
          {!disabled && (
            <button className="button ghost" type="button" onClick={() => reset.mutate({ id: member.id })} disabled={reset.isPending}>
              Reset password
            </button>
          )}
          {!self && (
            <button
              className="button ghost"
              type="button"
              onClick={() => disable.mutate({ id: member.id, disabled: !disabled })}
              disabled={disable.isPending}
            >
              {disabled ? 'Enable' : 'Disable'}
            </button>
          )}
        </td>
      )}
    </tr>
  );
}
