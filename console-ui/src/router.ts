import { createRouter, createWebHistory } from 'vue-router'
import { loadMe, session } from './api'
import LoginView from './views/LoginView.vue'
import LiveView from './views/LiveView.vue'
import CallsView from './views/CallsView.vue'
import CallView from './views/CallView.vue'
import MessagesView from './views/MessagesView.vue'
import SettingsView from './views/SettingsView.vue'
import PersonaView from './views/PersonaView.vue'
import DashboardView from './views/DashboardView.vue'
import UsersView from './views/UsersView.vue'
import HealthView from './views/HealthView.vue'
import VoicesView from './views/VoicesView.vue'
import ChatView from './views/ChatView.vue'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', redirect: '/live' },
    { path: '/login', component: LoginView, meta: { public: true } },
    { path: '/live', component: LiveView },
    { path: '/dashboard', component: DashboardView },
    { path: '/calls', component: CallsView },
    { path: '/calls/:id', component: CallView, props: true },
    { path: '/messages', component: MessagesView },
    { path: '/chat', component: ChatView },
    { path: '/settings', component: SettingsView, meta: { admin: true } },
    { path: '/persona', component: PersonaView, meta: { admin: true } },
    { path: '/voices', component: VoicesView, meta: { admin: true } },
    { path: '/users', component: UsersView, meta: { admin: true } },
    { path: '/health', component: HealthView, meta: { admin: true } },
    { path: '/:rest(.*)*', redirect: '/live' },
  ],
})

router.beforeEach(async (to) => {
  if (!session.checked) await loadMe()
  if (to.meta.public) return session.user && to.path === '/login' ? '/live' : true
  if (!session.user) return { path: '/login', query: { next: to.fullPath } }
  if (to.meta.admin && session.user.role !== 'admin') return '/live'
  return true
})
