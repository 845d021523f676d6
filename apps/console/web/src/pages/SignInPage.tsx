import { Alert, Button, Container, NativeSelect, PasswordInput, Radio, Stack, Title } from '@mantine/core';
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, api, type Role, type Session } from '../api.tsx';
import { useI18n } from '../i18n.tsx';

/** Where each role's token is checked: a cheap read the role is allowed to make. */
function probe(s: Session): string {
  if (s.role === 'office') return '/api/publisher/alerts?limit=1';
  if (s.role === 'desk') return `/api/agencies/${s.agency}/inbox?limit=1`;
  return '/api/audit/compliance/verify';
}

export function SignInPage({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const { t } = useI18n();
  const [role, setRole] = useState<Role>('office');
  const [agency, setAgency] = useState('');
  const [agencies, setAgencies] = useState<string[]>([]);
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void fetch('/api/agencies')
      .then((r) => r.json() as Promise<{ agencies: string[] }>)
      .then((b) => {
        setAgencies(b.agencies);
        setAgency((a) => a || (b.agencies[0] ?? ''));
      })
      .catch(() => setAgencies([]));
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const s: Session = { role, token: token.trim(), ...(role === 'desk' ? { agency } : {}) };
    try {
      await api(s, probe(s));
      onSignedIn(s);
    } catch (err) {
      setError(err instanceof ApiError && (err.status === 401 || err.status === 403) ? t('signIn.refused') : t('signIn.unavailable'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Container size="xs">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="sign-in-title">
        <Stack>
          <Title order={2} id="sign-in-title">
            {t('signIn.title')}
          </Title>
          <Radio.Group label={t('signIn.role')} value={role} onChange={(v) => setRole(v as Role)}>
            <Stack gap="xs" mt="xs">
              <Radio value="office" label={t('role.office')} data-testid="role-office" />
              <Radio value="desk" label={t('role.desk')} data-testid="role-desk" />
              <Radio value="compliance" label={t('role.compliance')} data-testid="role-compliance" />
            </Stack>
          </Radio.Group>
          {role === 'desk' && (
            <NativeSelect
              label={t('signIn.agency')}
              value={agency}
              onChange={(e) => setAgency(e.currentTarget.value)}
              data={agencies}
              data-testid="agency"
            />
          )}
          <PasswordInput
            label={t('signIn.token')}
            description={t('signIn.tokenHelp')}
            value={token}
            onChange={(e) => setToken(e.currentTarget.value)}
            required
            data-testid="token"
            autoComplete="off"
          />
          {error && (
            <Alert variant="filled" color="red.9" role="alert" title={t('signIn.failed')}>
              {error}
            </Alert>
          )}
          <Button type="submit" loading={busy} data-testid="sign-in">
            {t('signIn.submit')}
          </Button>
        </Stack>
      </form>
    </Container>
  );
}
