import {
  Box,
  Button,
  DirectionProvider,
  Group,
  MantineProvider,
  NativeSelect,
  Text,
  Title,
  createTheme,
  type CSSVariablesResolver,
} from '@mantine/core';
import { useEffect, useState } from 'react';
import { loadSession, saveSession, type Session } from './api.tsx';
import { I18nProvider, LANGUAGES, LANGUAGE_NAMES, isRtl, useI18n, type Language } from './i18n.tsx';
import { CompliancePage } from './pages/CompliancePage.tsx';
import { DeskPage } from './pages/DeskPage.tsx';
import { OfficePage } from './pages/OfficePage.tsx';
import { SignInPage } from './pages/SignInPage.tsx';

// Shade 8 keeps white text on filled blue above the WCAG AA contrast ratio (4.5:1); dimmed and
// error texts are darkened for the same reason (axe-core checks every page in the e2e tier).
const theme = createTheme({ primaryColor: 'blue', primaryShade: 8 });
const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: { '--mantine-color-dimmed': '#495057', '--mantine-color-error': '#c92a2a', '--mantine-color-placeholder': '#495057' },
  dark: {},
});

function initialLanguage(): Language {
  const stored = localStorage.getItem('backbone.lang');
  if (stored && stored in LANGUAGES) return stored as Language;
  const nav = navigator.language.slice(0, 2);
  return nav in LANGUAGES ? (nav as Language) : 'en';
}

export function App() {
  const [lang, setLang] = useState<Language>(initialLanguage);
  const [session, setSession] = useState<Session | null>(loadSession);
  const dir = isRtl(lang) ? 'rtl' : 'ltr';
  useEffect(() => {
    document.documentElement.lang = lang;
    document.documentElement.dir = dir;
    localStorage.setItem('backbone.lang', lang);
  }, [lang, dir]);
  const signIn = (s: Session | null) => {
    saveSession(s);
    setSession(s);
  };
  return (
    <DirectionProvider initialDirection={dir} detectDirection>
      <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} forceColorScheme="light">
        <I18nProvider lang={lang}>
          <Shell session={session} onSession={signIn} lang={lang} onLang={setLang} />
        </I18nProvider>
      </MantineProvider>
    </DirectionProvider>
  );
}

function Shell({
  session,
  onSession,
  lang,
  onLang,
}: {
  session: Session | null;
  onSession: (s: Session | null) => void;
  lang: Language;
  onLang: (l: Language) => void;
}) {
  const { t } = useI18n();
  useEffect(() => {
    document.title = `${t('app.title')}${session ? ` · ${t(`role.${session.role}`)}` : ''}`;
  }, [t, session]);
  return (
    <Box>
      <Box component="header" style={{ borderBottom: '1px solid var(--mantine-color-gray-3)' }} py="sm">
        <Group px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Title order={1} size="h3">
              {t('app.title')}
            </Title>
            {session && (
              <Text size="sm" c="dimmed" data-testid="signed-in-as">
                {t(`role.${session.role}`)}
                {session.agency ? ` · ${session.agency}` : ''}
              </Text>
            )}
          </Group>
          <Group gap="sm" wrap="nowrap">
            <NativeSelect
              aria-label={t('app.language')}
              data-testid="language"
              value={lang}
              onChange={(e) => onLang(e.currentTarget.value as Language)}
              data={(Object.keys(LANGUAGES) as Language[]).map((l) => ({ value: l, label: LANGUAGE_NAMES[l] }))}
            />
            {session && (
              <Button variant="outline" onClick={() => onSession(null)} data-testid="sign-out">
                {t('app.signOut')}
              </Button>
            )}
          </Group>
        </Group>
      </Box>
      <Box component="main" p="md">
        {!session && <SignInPage onSignedIn={onSession} />}
        {session?.role === 'office' && <OfficePage session={session} />}
        {session?.role === 'desk' && <DeskPage session={session} />}
        {session?.role === 'compliance' && <CompliancePage session={session} />}
      </Box>
    </Box>
  );
}
