/** What the web app shows each role; the server enforces the same rules (403 for agents). */
export const CAMPAIGN_ADMIN_HINT = 'Only an admin can create or stop campaigns';
