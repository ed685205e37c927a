// A small i18n of our own: two languages, Russian by default, the choice kept in localStorage.
import { ref } from 'vue'

export type Lang = 'ru' | 'en'

const ru = {
  appName: 'Секретарь',
  live: 'Сейчас',
  calls: 'Звонки',
  messages: 'Сообщения',
  settings: 'Настройки',
  logout: 'Выйти',
  login: 'Вход',
  name: 'Имя',
  password: 'Пароль',
  signIn: 'Войти',
  badLogin: 'Неверное имя или пароль',
  tooMany: 'Слишком много попыток, попробуйте позже',
  failed: 'Ошибка',
  menu: 'Меню',
  noLiveCalls: 'Сейчас звонков нет',
  connecting: 'Подключение…',
  disconnected: 'Нет связи, переподключение…',
  lagged: 'Пропущено событий: {n}',
  line: 'Линия',
  caller: 'Звонящий',
  duration: 'Длительность',
  speaking: 'Говорит',
  listen: 'Слушать',
  stopListening: 'Не слушать',
  listening: 'слышно',
  transfer: 'Перевести',
  transferTo: 'Куда перевести',
  hangUp: 'Завершить',
  confirmHangUp: 'Завершить этот звонок?',
  secretary: 'Секретарь',
  callerWho: 'Звонящий',
  bargeIn: 'перебил',
  search: 'Поиск по словам',
  dateFrom: 'С даты',
  dateTo: 'По дату',
  endedBy: 'Чем закончился',
  any: 'любой',
  apply: 'Найти',
  reset: 'Сбросить',
  started: 'Начало',
  turns: 'Реплик',
  total: 'Всего: {n}',
  prev: '← Назад',
  next: 'Дальше →',
  noCalls: 'Звонков не найдено',
  transcript: 'Разговор',
  recording: 'Запись',
  noRecording: 'Записи нет',
  timings: 'Задержки',
  back: '← К звонкам',
  notFound: 'Не найдено',
  noMessages: 'Сообщений нет',
  created: 'Когда',
  callback: 'Перезвонить',
  reason: 'Причина',
  urgency: 'Срочность',
  handled: 'Обработано',
  settingsSoon: 'Настройки появятся здесь.',
  loading: 'Загрузка…',
  language: 'Язык',
  transferredTo: 'Переведён на {to}',
  endReasons: {
    caller_hangup: 'звонящий положил трубку',
    app_hangup: 'секретарь завершил',
    transferred: 'переведён',
    operator_hangup: 'завершён оператором',
    handed_back: 'передан персоналу (перезапуск)',
    app_shutdown: 'прерван остановкой',
    media_lost: 'потерян звук',
    lost_on_reconnect: 'потерян при переподключении',
    app_crashed: 'прерван сбоем',
    app_restarted: 'прерван перезапуском',
    error: 'ошибка',
  } as Record<string, string>,
  urgencies: { normal: 'обычная', high: 'срочно', urgent: 'срочно', low: 'не срочно' } as Record<string, string>,
}

type Dict = typeof ru

const en: Dict = {
  appName: 'Secretary',
  live: 'Live',
  calls: 'Calls',
  messages: 'Messages',
  settings: 'Settings',
  logout: 'Log out',
  login: 'Sign in',
  name: 'Name',
  password: 'Password',
  signIn: 'Sign in',
  badLogin: 'Wrong name or password',
  tooMany: 'Too many attempts, try again later',
  failed: 'Error',
  menu: 'Menu',
  noLiveCalls: 'No calls right now',
  connecting: 'Connecting…',
  disconnected: 'Disconnected, reconnecting…',
  lagged: '{n} events were missed',
  line: 'Line',
  caller: 'Caller',
  duration: 'Duration',
  speaking: 'Speaking',
  listen: 'Listen',
  stopListening: 'Stop listening',
  listening: 'heard',
  transfer: 'Transfer',
  transferTo: 'Transfer to',
  hangUp: 'Hang up',
  confirmHangUp: 'Hang up this call?',
  secretary: 'Secretary',
  callerWho: 'Caller',
  bargeIn: 'barged in',
  search: 'Words said',
  dateFrom: 'From',
  dateTo: 'To',
  endedBy: 'Ended by',
  any: 'any',
  apply: 'Search',
  reset: 'Reset',
  started: 'Started',
  turns: 'Turns',
  total: 'Total: {n}',
  prev: '← Previous',
  next: 'Next →',
  noCalls: 'No calls found',
  transcript: 'Transcript',
  recording: 'Recording',
  noRecording: 'No recording',
  timings: 'Timings',
  back: '← Calls',
  notFound: 'Not found',
  noMessages: 'No messages',
  created: 'When',
  callback: 'Call back',
  reason: 'Reason',
  urgency: 'Urgency',
  handled: 'Handled',
  settingsSoon: 'Settings will be here.',
  loading: 'Loading…',
  language: 'Language',
  transferredTo: 'Transferred to {to}',
  endReasons: {
    caller_hangup: 'caller hung up',
    app_hangup: 'secretary ended',
    transferred: 'transferred',
    operator_hangup: 'ended by an operator',
    handed_back: 'handed to staff (restart)',
    app_shutdown: 'cut off by a stop',
    media_lost: 'audio lost',
    lost_on_reconnect: 'lost on reconnect',
    app_crashed: 'cut off by a crash',
    app_restarted: 'cut off by a restart',
    error: 'error',
  },
  urgencies: { normal: 'normal', high: 'urgent', urgent: 'urgent', low: 'low' },
}

const dicts: Record<Lang, Dict> = { ru, en }

function initial(): Lang {
  const saved = localStorage.getItem('lang')
  return saved === 'en' || saved === 'ru' ? saved : 'ru'
}

export const lang = ref<Lang>(initial())
document.documentElement.lang = lang.value

export function setLang(value: Lang): void {
  lang.value = value
  localStorage.setItem('lang', value)
  document.documentElement.lang = value
}

type TextKey = { [K in keyof Dict]: Dict[K] extends string ? K : never }[keyof Dict]

export function t(key: TextKey, vars: Record<string, string | number> = {}): string {
  let s = dicts[lang.value][key] as string
  for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, String(v))
  return s
}

export function endReason(value: string | null): string {
  if (!value) return ''
  return dicts[lang.value].endReasons[value] ?? value
}

export function urgency(value: string): string {
  return dicts[lang.value].urgencies[value] ?? value
}

export function formatTime(unix: number | null): string {
  if (unix === null || unix === undefined) return ''
  return new Date(unix * 1000).toLocaleString(lang.value === 'ru' ? 'ru-RU' : 'en-GB', {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  })
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || seconds === undefined || seconds < 0) return ''
  const s = Math.floor(seconds)
  const m = Math.floor(s / 60)
  const h = Math.floor(m / 60)
  const mm = String(m % 60).padStart(2, '0')
  const ss = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${mm}:${ss}` : `${m}:${ss}`
}
