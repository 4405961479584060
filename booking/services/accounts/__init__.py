"""Accounts: people, their roles, babies, tokens and password resets.

- signup: sign_up_parent.
- users: create_user, authenticate, set_password, end_sessions, find_user_by_email.
- roles: grant_role, revoke_role, set_admin, search_users, user_memberships, get_user;
  instructor_at (is this account an instructor of this centre).
- access: is_centre_staff, require_centre_staff, managed_centre_ids (who may manage a
  centre).
- babies: list_babies, get_baby, add_baby, update_baby, remove_baby, find_or_add_baby.
- api_tokens: create_token, revoke_token, list_tokens, user_for_token.
- feed_tokens: issue_feed_token, revoke_feed_token, feed_link, user_for_feed_token.
- passwords_reset: request_password_reset, check_reset_token, reset_password,
  purge_reset_tokens.
- invites: invite (an admin emails a signed link to a role), read_invitation,
  invitation_state, accept_as_new_account, accept_as_account (each link used once),
  withdraw_invitation, pending_invitations, recently_used_invitations,
  purge_invitations.
"""
