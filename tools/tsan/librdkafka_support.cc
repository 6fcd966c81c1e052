// Compiled only into SLUICE_SANITIZE=thread builds, into every target that links librdkafka
// (CMakeLists.txt): what ThreadSanitizer needs to run sluice against Debian's librdkafka, which
// is not built with TSan.
//
// 1. C11 threads. librdkafka starts its threads and locks its queues with <threads.h>
//    (thrd_create, mtx_lock, cnd_wait, ...). TSan intercepts the pthread functions but not
//    these, and glibc implements them with internal calls the interceptors never see
//    (google/sanitizers#1603): a librdkafka thread is unknown to TSan and crashes it at its
//    first intercepted call, and the locks that order our callbacks on those threads against
//    our own threads are invisible. Defined here, in the executable, these definitions take
//    precedence over glibc's for librdkafka and do what glibc's do (glibc casts mtx_t and
//    cnd_t to the pthread types the same way), through the pthread functions TSan intercepts.
//    TSan takes the locking order from them but not the accesses to the lock objects
//    themselves: librdkafka creates and hands those over between its threads in ways TSan
//    cannot follow (point 2), which would otherwise be reported as races on the locks.
//
// 2. One suppression, for librdkafka's own accesses only (__tsan_default_suppressions below).
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <new>

extern "C" {
// ThreadSanitizer's runtime: ignore this thread's memory accesses (not its synchronisation).
void __tsan_ignore_thread_begin();
void __tsan_ignore_thread_end();
}

namespace {

class IgnoreLockAccesses {
 public:
  IgnoreLockAccesses() { __tsan_ignore_thread_begin(); }
  ~IgnoreLockAccesses() { __tsan_ignore_thread_end(); }
  IgnoreLockAccesses(const IgnoreLockAccesses&) = delete;
  IgnoreLockAccesses& operator=(const IgnoreLockAccesses&) = delete;
};

int FromErrno(int error) {
  switch (error) {
    case 0:
      return thrd_success;
    case ENOMEM:
      return thrd_nomem;
    case EBUSY:
      return thrd_busy;
    case ETIMEDOUT:
      return thrd_timedout;
    default:
      return thrd_error;
  }
}

struct Start {
  thrd_start_t function;
  void* argument;
};

void* RunStart(void* raw) {
  Start start = *static_cast<Start*>(raw);
  delete static_cast<Start*>(raw);
  // C11 threads return an int; it travels through pthread's void* as glibc's do.
  return reinterpret_cast<void*>(static_cast<intptr_t>(start.function(start.argument)));
}

pthread_mutex_t* AsPthread(mtx_t* mutex) { return reinterpret_cast<pthread_mutex_t*>(mutex); }
pthread_cond_t* AsPthread(cnd_t* cond) { return reinterpret_cast<pthread_cond_t*>(cond); }

}  // namespace

extern "C" {

int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
  auto* start = new (std::nothrow) Start{function, argument};
  if (start == nullptr) return thrd_nomem;
  int error = pthread_create(thread, nullptr, RunStart, start);
  if (error != 0) delete start;
  return FromErrno(error);
}

int thrd_join(thrd_t thread, int* result) {
  void* value = nullptr;
  int error = pthread_join(thread, &value);
  if (error == 0 && result != nullptr)
    *result = static_cast<int>(reinterpret_cast<intptr_t>(value));
  return FromErrno(error);
}

int mtx_init(mtx_t* mutex, int type) {
  IgnoreLockAccesses ignore;
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  if ((type & mtx_recursive) != 0) pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
  int error = pthread_mutex_init(AsPthread(mutex), &attributes);
  pthread_mutexattr_destroy(&attributes);
  return FromErrno(error);
}
int mtx_lock(mtx_t* mutex) {
  IgnoreLockAccesses ignore;
  return FromErrno(pthread_mutex_lock(AsPthread(mutex)));
}
int mtx_trylock(mtx_t* mutex) {
  IgnoreLockAccesses ignore;
  return FromErrno(pthread_mutex_trylock(AsPthread(mutex)));
}
int mtx_unlock(mtx_t* mutex) {
  IgnoreLockAccesses ignore;
  return FromErrno(pthread_mutex_unlock(AsPthread(mutex)));
}
void mtx_destroy(mtx_t* mutex) {
  IgnoreLockAccesses ignore;
  pthread_mutex_destroy(AsPthread(mutex));
}

int cnd_init(cnd_t* cond) {
  IgnoreLockAccesses ignore;
  return FromErrno(pthread_cond_init(AsPthread(cond), nullptr));
}
int cnd_signal(cnd_t* cond) {
  IgnoreLockAccesses ignore;
  return FromErrno(pthread_cond_signal(AsPthread(cond)));
}
int cnd_broadcast(cnd_t* cond) {
  IgnoreLockAccesses ignore;
  return FromErrno(pthread_cond_broadcast(AsPthread(cond)));
}
int cnd_wait(cnd_t* cond, mtx_t* mutex) {
  IgnoreLockAccesses ignore;
  return FromErrno(pthread_cond_wait(AsPthread(cond), AsPthread(mutex)));
}
int cnd_timedwait(cnd_t* cond, mtx_t* mutex, const struct timespec* deadline) {
  IgnoreLockAccesses ignore;
  return FromErrno(pthread_cond_timedwait(AsPthread(cond), AsPthread(mutex), deadline));
}
void cnd_destroy(cnd_t* cond) {
  IgnoreLockAccesses ignore;
  pthread_cond_destroy(AsPthread(cond));
}

void call_once(once_flag* flag, void (*function)(void)) {
  IgnoreLockAccesses ignore;  // librdkafka's once functions are librdkafka's accesses too
  pthread_once(reinterpret_cast<pthread_once_t*>(flag), function);
}

// librdkafka orders much of its internal work with atomic operations (reference counts of
// buffers and handles, thread state flags) compiled without TSan, so TSan misses that order and
// reports librdkafka's own frees and lock teardown on its threads as racing with earlier uses
// (seen: free() of a fetch buffer our thread had copied a record from, after
// rd_kafka_message_destroy dropped the last reference; pthread_rwlock_destroy at rd_kafka_destroy
// after a broker thread's last read lock). called_from_lib makes TSan ignore only the calls
// librdkafka itself makes into intercepted functions; our code, including callbacks that run on
// librdkafka's threads, stays checked, and the locks above still order it (they are taken from
// here, not from librdkafka).
const char* __tsan_default_suppressions() { return "called_from_lib:librdkafka.so.1\n"; }

}  // extern "C"
